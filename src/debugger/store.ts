/**
 * Reading the debugger hook's steps and tensors back (Prisma), and decoding tensors to float32. Rows
 * are immutable once written, so decoded tensors are cached by row id (LRU, bounded in bytes).
 */
import { type Db, Prisma } from '../db/prisma.ts';
import { LIVE_ENDPOINT } from '../endpoints/store.ts';
import { isOneOf } from '../guards.ts';
import { decodeTensor } from './encoding.ts';
import { LruCache } from './lru.ts';
import type { TensorRow } from './step-rows.ts';

/** smdebug's ModeKeys; an inference endpoint only produces PREDICT steps. GLOBAL: every mode. */
export const MODE_KEYS = ['TRAIN', 'EVAL', 'PREDICT', 'GLOBAL'] as const;
export type ModeKey = (typeof MODE_KEYS)[number];

export interface StepRecord {
  id: string;
  endpointId: string;
  step: number;
  mode: ModeKey;
  captureId: string | null;
  createdAt: Date;
}

export interface TensorRecord {
  id: string;
  stepId: string;
  name: string;
  shape: number[];
  dtype: string;
  encoding: string;
  /** stored bytes of `data` */
  bytes: number;
}

export interface DecodedTensor extends TensorRecord {
  values: Float32Array;
}

export interface StoredTensor extends TensorRecord {
  data: Uint8Array;
}

export function decodeStored(tensor: StoredTensor): Float32Array {
  return decodeTensor(tensor.data, tensor.encoding, elementCount(tensor.shape));
}

/** step lists (a trial's steps, a tensor's steps) hold at most this many: the newest */
export const MAX_LISTED_STEPS = 10_000;

const STEP_SELECT = { id: true, endpointId: true, step: true, mode: true, captureId: true, createdAt: true } as const;

/** a step row with its mode checked: the hook writes only smdebug's mode names */
function stepRecord<Row extends Omit<StepRecord, 'mode'> & { mode: string }>(row: Row): StepRecord;
function stepRecord<Row extends Omit<StepRecord, 'mode'> & { mode: string }>(row: Row | null): StepRecord | null;
function stepRecord<Row extends Omit<StepRecord, 'mode'> & { mode: string }>(row: Row | null): StepRecord | null {
  if (!row) return null;
  const { mode } = row;
  if (!isOneOf(MODE_KEYS, mode)) throw new Error(`debug step ${row.id} has an unknown mode '${mode}'`);
  return { ...row, mode };
}

function modeWhere(mode: ModeKey): { mode?: string } {
  return mode === 'GLOBAL' ? {} : { mode };
}

export function parseShape(text: string): number[] {
  const shape: unknown = JSON.parse(text);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new Error(`invalid tensor shape ${text}`);
  return shape as number[];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const ROW_SELECT = { id: true, name: true, shape: true, dtype: true, encoding: true, data: true } as const;

function decodeRow(
  stepId: string,
  row: { id: string; name: string; shape: string; dtype: string; encoding: string; data: Uint8Array },
): DecodedTensor {
  const shape = parseShape(row.shape);
  const values = decodeTensor(row.data, row.encoding, elementCount(shape));
  return {
    id: row.id,
    stepId,
    name: row.name,
    shape,
    dtype: row.dtype,
    encoding: row.encoding,
    bytes: row.data.byteLength,
    values,
  };
}

export class TensorStore {
  readonly #decoded: LruCache<DecodedTensor>;

  constructor(
    private readonly prisma: Db,
    cacheBytes = 128 * 1024 * 1024,
  ) {
    this.#decoded = new LruCache<DecodedTensor>(4096, cacheBytes, (t) => t.values.byteLength + 256);
  }

  /** step numbers of an endpoint, ascending: the newest MAX_LISTED_STEPS */
  async steps(endpointId: string, mode: ModeKey): Promise<number[]> {
    const rows = await this.prisma.debugStep.findMany({
      where: { endpointId, ...modeWhere(mode) },
      select: { step: true },
      orderBy: { step: 'desc' },
      take: MAX_LISTED_STEPS,
    });
    return [...new Set(rows.map((r) => r.step).reverse())];
  }

  async step(endpointId: string, mode: ModeKey, step: number): Promise<StepRecord | null> {
    return stepRecord(
      await this.prisma.debugStep.findFirst({
        where: { endpointId, step, ...modeWhere(mode) },
        select: STEP_SELECT,
        orderBy: { mode: 'asc' },
      }),
    );
  }

  async stepOfCapture(captureId: string): Promise<StepRecord | null> {
    return stepRecord(await this.prisma.debugStep.findUnique({ where: { captureId }, select: STEP_SELECT }));
  }

  /** the steps of several captures, by capture id, in one query (for DataLoaders) */
  async stepsOfCaptures(captureIds: readonly string[]): Promise<Map<string, StepRecord>> {
    const rows = await this.prisma.debugStep.findMany({
      where: { captureId: { in: [...captureIds] } },
      select: STEP_SELECT,
    });
    return new Map(rows.flatMap((row) => (row.captureId ? [[row.captureId, stepRecord(row)] as const] : [])));
  }

  /** several steps' tensors without their data, by step id, in one query (for DataLoaders) */
  async tensorsOfSteps(stepIds: readonly string[]): Promise<Map<string, TensorRecord[]>> {
    const rows = await this.prisma.$queryRaw<
      (Omit<TensorRow, 'data'> & { bytes: number | bigint })[]
    >`SELECT "id", "stepId", "name", "shape", "dtype", "encoding", LENGTH("data") AS "bytes" FROM "Tensor"
      WHERE "stepId" IN (${Prisma.join([...stepIds])}) ORDER BY "stepId", "name"`;
    const byStep = new Map<string, TensorRecord[]>(stepIds.map((id) => [id, []]));
    for (const r of rows) byStep.get(r.stepId)?.push({ ...r, shape: parseShape(r.shape), bytes: Number(r.bytes) });
    return byStep;
  }

  async stepById(id: string): Promise<StepRecord | null> {
    return stepRecord(
      await this.prisma.debugStep.findUnique({ where: { id, endpoint: LIVE_ENDPOINT }, select: STEP_SELECT }),
    );
  }

  /** a step's tensors without their data, by name */
  async tensors(stepId: string): Promise<TensorRecord[]> {
    const rows = await this.prisma.$queryRaw<
      { id: string; name: string; shape: string; dtype: string; encoding: string; bytes: number | bigint }[]
    >`
      SELECT "id", "name", "shape", "dtype", "encoding", LENGTH("data") AS "bytes" FROM "Tensor" WHERE "stepId" = ${stepId} ORDER BY "name"`;
    return rows.map((r) => ({ ...r, stepId, shape: parseShape(r.shape), bytes: Number(r.bytes) }));
  }

  /** the names saved in any step of the endpoint (in that mode), sorted */
  async namesAcrossSteps(endpointId: string, mode: ModeKey): Promise<string[]> {
    const rows =
      mode === 'GLOBAL'
        ? await this.prisma.$queryRaw<{ name: string }[]>`
            SELECT DISTINCT t."name" AS "name" FROM "Tensor" t JOIN "DebugStep" s ON s."id" = t."stepId"
            WHERE s."endpointId" = ${endpointId} ORDER BY t."name"`
        : await this.prisma.$queryRaw<{ name: string }[]>`
            SELECT DISTINCT t."name" AS "name" FROM "Tensor" t JOIN "DebugStep" s ON s."id" = t."stepId"
            WHERE s."endpointId" = ${endpointId} AND s."mode" = ${mode} ORDER BY t."name"`;
    return rows.map((r) => r.name).sort();
  }

  /** whether any step of the endpoint (in that mode) saved `name` */
  async hasTensor(endpointId: string, mode: ModeKey, name: string): Promise<boolean> {
    const found = await this.prisma.tensor.findFirst({
      where: { name, step: { endpointId, ...modeWhere(mode) } },
      select: { id: true },
    });
    return found !== null;
  }

  /** the steps at which a tensor was saved, ascending: the newest MAX_LISTED_STEPS */
  async stepsWithTensor(endpointId: string, mode: ModeKey, name: string): Promise<number[]> {
    const rows = await this.prisma.debugStep.findMany({
      where: { endpointId, ...modeWhere(mode), tensors: { some: { name } } },
      select: { step: true },
      orderBy: { step: 'desc' },
      take: MAX_LISTED_STEPS,
    });
    return [...new Set(rows.map((r) => r.step).reverse())];
  }

  /**
   * The named tensors of a step that exist, decoded (absent names are simply not in the map).
   * `cache: false` neither reads nor fills the decoded-tensor cache (for one-off bulk reads).
   */
  async read(
    stepId: string,
    names: readonly string[],
    options: { cache?: boolean } = {},
  ): Promise<Map<string, DecodedTensor>> {
    const out = new Map<string, DecodedTensor>();
    if (options.cache === false) {
      const rows = await this.prisma.tensor.findMany({
        where: { stepId, name: { in: [...names] } },
        select: ROW_SELECT,
      });
      for (const row of rows) out.set(row.name, decodeRow(stepId, row));
      return out;
    }
    // ids first: cached tensors are not read again
    const ids = await this.prisma.tensor.findMany({
      where: { stepId, name: { in: [...names] } },
      select: { id: true, name: true },
    });
    await Promise.all(
      ids.map(async ({ id, name }) => {
        const tensor = await this.#decoded.getOrCompute(id, async () => {
          const row = await this.prisma.tensor.findUnique({ where: { id }, select: ROW_SELECT });
          if (!row) throw new Error(`tensor ${name} of step ${stepId} disappeared while being read`);
          return decodeRow(stepId, row);
        });
        out.set(name, tensor);
      }),
    );
    return out;
  }

  /** the named tensors of a step that exist, as stored (not decoded, not cached) */
  async readRows(stepId: string, names: readonly string[]): Promise<StoredTensor[]> {
    const rows = await this.prisma.tensor.findMany({ where: { stepId, name: { in: [...names] } }, select: ROW_SELECT });
    return rows.map((row) => ({ ...row, stepId, shape: parseShape(row.shape), bytes: row.data.byteLength }));
  }

  /** one tensor of a step, decoded and cached; null when the step did not save it */
  async readOne(stepId: string, name: string): Promise<DecodedTensor | null> {
    const found = await this.read(stepId, [name]);
    return found.get(name) ?? null;
  }
}
