/** Prisma access for captures: keyset pages, counts and single rows, as CaptureRecords. */
import type { CaptureRow, Db, Prisma } from '../db/prisma.ts';
import { ENDPOINT_NAME_AND_MODEL } from '../endpoints/store.ts';
import { afterCursor, type CaptureFilter, type Cursor, filterWhere, keysetOrder } from './queries.ts';
import type { CaptureRecord } from './types.ts';

export function toRecord(row: CaptureRow): CaptureRecord {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventId: row.eventId,
    inferenceTime: row.inferenceTime,
    modelVersion: row.modelVersion,
    inputData: row.inputData,
    inputContentType: row.inputContentType,
    output: row.output,
    predictedClass: row.predictedClass,
    confidence: row.confidence,
    top2Class: row.top2Class,
    top2Score: row.top2Score,
    top3Class: row.top3Class,
    top3Score: row.top3Score,
  };
}

export interface PageQuery {
  endpointId: string;
  filter?: CaptureFilter;
  after?: Cursor;
  direction: 'asc' | 'desc';
  take: number;
}

export class CaptureStore {
  constructor(private readonly prisma: Db) {}

  /** up to `take` rows following `after` in keyset order */
  async page(query: PageQuery): Promise<CaptureRecord[]> {
    const base = filterWhere(query.endpointId, query.filter);
    const where: Prisma.CaptureWhereInput = query.after
      ? { AND: [base, afterCursor(query.after, query.direction)] }
      : base;
    const rows = await this.prisma.capture.findMany({ where, orderBy: keysetOrder(query.direction), take: query.take });
    return rows.map(toRecord);
  }

  count(endpointId: string, filter?: CaptureFilter): Promise<number> {
    return this.prisma.capture.count({ where: filterWhere(endpointId, filter) });
  }

  /** the capture and the name and model of its endpoint */
  async find(id: string): Promise<{ record: CaptureRecord; endpoint: { name: string; model: string } } | null> {
    const row = await this.prisma.capture.findUnique({
      where: { id },
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return row && { record: toRecord(row), endpoint: row.endpoint };
  }

  /** several captures by id with their endpoints' names and models, in one query (for DataLoaders) */
  async findMany(
    ids: readonly string[],
  ): Promise<Map<string, { record: CaptureRecord; endpoint: { name: string; model: string } }>> {
    const rows = await this.prisma.capture.findMany({
      where: { id: { in: [...ids] } },
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return new Map(rows.map((row) => [row.id, { record: toRecord(row), endpoint: row.endpoint }]));
  }

  /** the name and model of a capture's endpoint; null for an unknown capture */
  async endpointOf(id: string): Promise<{ name: string; model: string } | null> {
    const row = await this.prisma.capture.findUnique({ where: { id }, select: ENDPOINT_NAME_AND_MODEL });
    return row?.endpoint ?? null;
  }

  /** the request bytes (when captured) and the predicted class of a capture; null for an unknown capture */
  input(id: string): Promise<{ inputData: Uint8Array | null; predictedClass: number | null } | null> {
    return this.prisma.capture.findUnique({ where: { id }, select: { inputData: true, predictedClass: true } });
  }
}
