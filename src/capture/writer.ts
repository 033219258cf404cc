/**
 * Group commit: captures (with any debugger tensors of the same request) from concurrent requests
 * are written in one transaction. Each request awaits its own commit before answering, so an
 * acknowledged capture survives a crash; while one transaction runs, the next group gathers.
 */
import { toBytes } from '../db/bytes.ts';
import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { CaptureRecord } from './types.ts';

/** Rows written with a capture, in the same transaction (the debugger's step and tensors). */
export interface DebugRows {
  step: { id: string; endpointId: string; step: number; mode: string; captureId: string | null };
  tensors: { id: string; stepId: string; name: string; shape: string; dtype: string; encoding: string; data: Uint8Array }[];
}

export interface WriteUnit {
  capture: CaptureRecord | null;
  debug?: DebugRows;
}

interface Pending {
  unit: WriteUnit;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class CaptureWriter {
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  /** sizes of the committed groups, for stats and tests */
  readonly groupSizes: number[] = [];

  constructor(
    private readonly prisma: Db,
    private readonly logger: Logger,
    private readonly maxGroup = 256,
  ) {}

  /** resolves once the unit is committed */
  write(unit: WriteUnit): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ unit, resolve, reject });
      this.#flushing ??= this.#drain();
    });
  }

  /** resolves when everything written so far is committed */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length) {
        const group = this.#pending.splice(0, this.maxGroup);
        try {
          await this.#commit(group.map((p) => p.unit));
          this.groupSizes.push(group.length);
          if (this.groupSizes.length > 10_000) this.groupSizes.splice(0, 5_000);
          group.forEach((p) => p.resolve());
        } catch (error) {
          this.logger.error('capture group commit failed', { size: group.length, error });
          group.forEach((p) => p.reject(error));
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  #commit(units: WriteUnit[]): Promise<unknown> {
    const captures = units.flatMap((u) => (u.capture ? [toRow(u.capture)] : []));
    const steps = units.flatMap((u) => (u.debug ? [u.debug.step] : []));
    const tensors = units.flatMap((u) => (u.debug ? u.debug.tensors.map((t) => ({ ...t, data: toBytes(t.data) })) : []));
    const operations = [];
    if (captures.length) operations.push(this.prisma.capture.createMany({ data: captures }));
    if (steps.length) operations.push(this.prisma.debugStep.createMany({ data: steps }));
    if (tensors.length) operations.push(this.prisma.tensor.createMany({ data: tensors }));
    return operations.length ? this.prisma.$transaction(operations) : Promise.resolve();
  }
}

function toRow(c: CaptureRecord) {
  return {
    ...c,
    inputData: c.inputData ? toBytes(c.inputData) : null,
  };
}
