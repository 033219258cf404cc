/**
 * Group commit: captures (with any debugger tensors of the same request) from concurrent requests
 * are written in one transaction. Each request awaits its own commit before answering, so an
 * acknowledged capture survives a crash; while one transaction runs, the next group gathers.
 */
import type { Db } from '../db/client.ts';
import { insertStatementCount, insertStatements } from '../db/insert.ts';
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

  /**
   * How many pending units the next group takes: up to maxGroup, and, once it holds debug tensors, no
   * more than MAX_GROUP_BYTES of them (a step is ~0.7 MB), so a commit stays well inside its time limit.
   */
  #groupLength(): number {
    let bytes = 0;
    let n = 0;
    for (const { unit } of this.#pending) {
      if (n >= this.maxGroup) break;
      const unitBytes = unit.debug?.tensors.reduce((sum, t) => sum + t.data.byteLength, 0) ?? 0;
      if (n > 0 && bytes + unitBytes > MAX_GROUP_BYTES) break;
      bytes += unitBytes;
      n++;
    }
    return n;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length) {
        const group = this.#pending.splice(0, this.#groupLength());
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

  /**
   * One INSERT per table (multi-row, db/insert.ts). A single statement is atomic by itself; more go
   * in an interactive transaction (not a batch one: a batch goes through Prisma's query compiler as
   * one document, tensor bytes included, which made it the slowest part of a commit).
   */
  async #commit(units: WriteUnit[]): Promise<void> {
    const captures = units.flatMap((u) => (u.capture ? [u.capture] : []));
    const createdAt = new Date();
    const steps = units.flatMap((u) => (u.debug ? [{ ...u.debug.step, createdAt }] : []));
    const tensors = units.flatMap((u) => u.debug?.tensors ?? []);
    const write = async (db: Pick<Db, '$executeRaw'>) => {
      for (const statement of [
        ...insertStatements(db, 'Capture', CAPTURE_COLUMNS, captures),
        ...insertStatements(db, 'DebugStep', STEP_COLUMNS, steps),
        ...insertStatements(db, 'Tensor', TENSOR_COLUMNS, tensors),
      ]) {
        await statement;
      }
    };
    const statements =
      insertStatementCount(CAPTURE_COLUMNS.length, captures.length) +
      insertStatementCount(STEP_COLUMNS.length, steps.length) +
      insertStatementCount(TENSOR_COLUMNS.length, tensors.length);
    if (statements > 1) await this.prisma.$transaction((tx) => write(tx), TRANSACTION_LIMITS);
    else if (statements === 1) await write(this.prisma);
  }
}

/** debug tensor bytes in one group commit */
const MAX_GROUP_BYTES = 32 * 1024 * 1024;
/** Prisma's interactive defaults (2 s to start, 5 s to run) are for requests, not for 32 MB commits */
const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 60_000 };

const CAPTURE_COLUMNS = [
  'id', 'endpointId', 'eventId', 'inferenceTime', 'modelVersion', 'inputData', 'inputContentType', 'output',
  'predictedClass', 'confidence', 'top2Class', 'top2Score', 'top3Class', 'top3Score',
] as const satisfies readonly (keyof CaptureRecord)[];
const STEP_COLUMNS = ['id', 'endpointId', 'step', 'mode', 'captureId', 'createdAt'] as const;
const TENSOR_COLUMNS = ['id', 'stepId', 'name', 'shape', 'dtype', 'encoding', 'data'] as const;
