/**
 * Prisma access for captures: keyset pages, counts and single rows, as CaptureSummaries (without the
 * request bytes) or, for the export, CaptureRecords; and the request bytes of given captures.
 */
import { type CaptureRow, type Db, Prisma } from '../db/prisma.ts';
import { ENDPOINT_NAME_AND_MODEL, LIVE_ENDPOINT } from '../endpoints/store.ts';
import { afterCursor, type CaptureFilter, type Cursor, filterWhere, keysetOrder } from './queries.ts';
import type { CaptureRecord, CaptureSummary } from './types.ts';

export function toRecord(row: CaptureRow): CaptureRecord {
  return { ...toSummary(row), inputData: row.inputData, features: row.features };
}

export function toSummary(row: Omit<CaptureRow, 'inputData' | 'features'>): CaptureSummary {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventId: row.eventId,
    inferenceTime: row.inferenceTime,
    modelVersion: row.modelVersion,
    inputContentType: row.inputContentType,
    output: row.output,
    predictedClass: row.predictedClass,
    confidence: row.confidence,
    top2Class: row.top2Class,
    top2Score: row.top2Score,
    top3Class: row.top3Class,
    top3Score: row.top3Score,
    imageStats: row.imageStats,
    outlierScore: row.outlierScore,
  };
}

export interface PageQuery {
  endpointId: string;
  filter?: CaptureFilter;
  after?: Cursor;
  direction: 'asc' | 'desc';
  take: number;
}

/**
 * A deleted endpoint's captures stay until the retention sweeper deletes them: reads by id leave them
 * out (listings name a live endpoint already).
 */
const OF_LIVE_ENDPOINT = { endpoint: LIVE_ENDPOINT } as const;

/** the request bytes (and the features, read by the monitor only) are left out of what listings read */
const WITHOUT_INPUT = { inputData: true, features: true } as const;

export class CaptureStore {
  constructor(private readonly prisma: Db) {}

  /** up to `take` rows following `after` in keyset order, without their request bytes */
  async page(query: PageQuery): Promise<CaptureSummary[]> {
    const rows = await this.prisma.capture.findMany({ ...pageArgs(query), omit: WITHOUT_INPUT });
    return rows.map(toSummary);
  }

  /** the same page with the request bytes (the export writes them) */
  async pageWithInput(query: PageQuery): Promise<CaptureRecord[]> {
    const rows = await this.prisma.capture.findMany(pageArgs(query));
    return rows.map(toRecord);
  }

  /** the request bytes and their type, by capture id, for captures that stored them */
  async inputs(ids: readonly string[]): Promise<Map<string, { data: Uint8Array; contentType: string | null }>> {
    const rows = await this.prisma.capture.findMany({
      where: { id: { in: [...ids] }, inputData: { not: null } },
      select: { id: true, inputData: true, inputContentType: true },
    });
    return new Map(
      rows.flatMap((r) =>
        r.inputData ? [[r.id, { data: r.inputData, contentType: r.inputContentType }] as const] : [],
      ),
    );
  }

  /** the size of the request bytes, by capture id, without reading them */
  async inputSizes(ids: readonly string[]): Promise<Map<string, number>> {
    if (!ids.length) return new Map();
    const rows = await this.prisma.$queryRaw<{ id: string; bytes: number | bigint }[]>`
      SELECT "id", LENGTH("inputData") AS "bytes" FROM "Capture" WHERE "id" IN (${Prisma.join([...ids])}) AND "inputData" IS NOT NULL`;
    return new Map(rows.map((r) => [r.id, Number(r.bytes)]));
  }

  count(endpointId: string, filter?: CaptureFilter): Promise<number> {
    return this.prisma.capture.count({ where: filterWhere(endpointId, filter) });
  }

  /** the capture (without its request bytes) and the name and model of its endpoint */
  async find(id: string): Promise<{ record: CaptureSummary; endpoint: { name: string; model: string } } | null> {
    const row = await this.prisma.capture.findUnique({
      where: { id, ...OF_LIVE_ENDPOINT },
      omit: WITHOUT_INPUT,
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return row && { record: toSummary(row), endpoint: row.endpoint };
  }

  /** several captures by id with their endpoints' names and models, in one query (for DataLoaders) */
  async findMany(
    ids: readonly string[],
  ): Promise<Map<string, { record: CaptureSummary; endpoint: { name: string; model: string } }>> {
    const rows = await this.prisma.capture.findMany({
      where: { id: { in: [...ids] }, ...OF_LIVE_ENDPOINT },
      omit: WITHOUT_INPUT,
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return new Map(rows.map((row) => [row.id, { record: toSummary(row), endpoint: row.endpoint }]));
  }

  /** the name and model of a capture's endpoint; null for an unknown capture */
  async endpointOf(id: string): Promise<{ name: string; model: string } | null> {
    const row = await this.prisma.capture.findUnique({
      where: { id, ...OF_LIVE_ENDPOINT },
      select: ENDPOINT_NAME_AND_MODEL,
    });
    return row?.endpoint ?? null;
  }

  /** the request bytes (when captured) and the predicted class of a capture; null for an unknown capture */
  input(id: string): Promise<{ inputData: Uint8Array | null; predictedClass: number | null } | null> {
    return this.prisma.capture.findUnique({
      where: { id, ...OF_LIVE_ENDPOINT },
      select: { inputData: true, predictedClass: true },
    });
  }
}

function pageArgs(query: PageQuery) {
  const base = filterWhere(query.endpointId, query.filter);
  const where: Prisma.CaptureWhereInput = query.after
    ? { AND: [base, afterCursor(query.after, query.direction)] }
    : base;
  return { where, orderBy: keysetOrder(query.direction), take: query.take };
}
