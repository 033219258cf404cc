/**
 * The retention sweeper's SQL: which rows have expired (ids, at most `limit` at a time, each an index
 * range), and DELETEs by primary key. Every statement touches at most one batch of rows, so none holds
 * a lock for long; the same SQL runs on SQLite and PostgreSQL.
 */
import { type Db, Prisma } from '../db/prisma.ts';
import type { SweptTable } from './types.ts';

export interface EndpointRetention {
  id: string;
  name: string;
  captureRetentionDays: number | null;
  hookRetentionDays: number | null;
}

export interface ScheduleRetention {
  id: string;
  name: string;
  executionRetentionDays: number;
}

/** a row picked for deletion and the time it is ordered by (the next pick's cursor) */
export interface TimedRow {
  id: string;
  at: Date;
}

export interface KeyedRow {
  id: string;
  key: string;
}

/**
 * Rows deleted with their parent: the column naming the parent, and a unique key among one parent's
 * children (with the parent, an index) to page through a parent with more children than a batch.
 */
export const CHILDREN = {
  Tensor: { parent: 'stepId', key: 'name' },
  Violation: { parent: 'executionId', key: 'id' },
  Metric: { parent: 'executionId', key: 'id' },
} as const satisfies Partial<Record<SweptTable, { parent: string; key: string }>>;
export type ChildTable = keyof typeof CHILDREN;

export class RetentionStore {
  constructor(private readonly prisma: Db) {}

  // ── what to sweep ──

  /** endpoints deleteEndpoint marked, whose rows are still to be deleted */
  async deletedEndpoints(): Promise<{ id: string }[]> {
    return this.prisma.endpoint.findMany({ where: { deletedAt: { not: null } }, select: { id: true } });
  }

  /** live endpoints with a capture or hook retention */
  async endpointsWithRetention(): Promise<EndpointRetention[]> {
    return this.prisma.endpoint.findMany({
      where: { deletedAt: null, OR: [{ captureRetentionDays: { not: null } }, { hookRetentionDays: { not: null } }] },
      select: { id: true, name: true, captureRetentionDays: true, hookRetentionDays: true },
    });
  }

  /** schedules of live endpoints with an execution retention */
  async schedulesWithRetention(): Promise<ScheduleRetention[]> {
    const rows = await this.prisma.monitoringSchedule.findMany({
      where: { executionRetentionDays: { not: null }, endpoint: { deletedAt: null } },
      select: { id: true, name: true, executionRetentionDays: true },
    });
    return rows.flatMap((r) =>
      r.executionRetentionDays === null ? [] : [{ ...r, executionRetentionDays: r.executionRetentionDays }],
    );
  }

  // ── rows to delete, oldest first, from a cursor (index ranges) ──
  //
  // Each pick starts at the time where the previous batch ended (`from`), not at the start of the
  // range: on PostgreSQL the entries of rows just deleted stay in the index until vacuum, and a scan
  // from the start would walk all of them again for every batch.

  /** captures of the endpoint from `from` on, before `before` when given (the covering index on endpoint + time) */
  async captures(endpointId: string, from: Date, before: Date | null, limit: number): Promise<TimedRow[]> {
    return this.prisma.$queryRaw<TimedRow[]>`SELECT "id", "inferenceTime" AS "at" FROM "Capture"
      WHERE "endpointId" = ${endpointId} AND "inferenceTime" >= ${from} ${upTo('inferenceTime', before)}
      ORDER BY "inferenceTime" LIMIT ${limit}`;
  }

  /** debug steps of the endpoint saved from `from` on, before `before` when given (index on endpoint + createdAt) */
  async steps(endpointId: string, from: Date, before: Date | null, limit: number): Promise<TimedRow[]> {
    return this.prisma.$queryRaw<TimedRow[]>`SELECT "id", "createdAt" AS "at" FROM "DebugStep"
      WHERE "endpointId" = ${endpointId} AND "createdAt" >= ${from} ${upTo('createdAt', before)}
      ORDER BY "createdAt" LIMIT ${limit}`;
  }

  /** the steps recorded with these captures (at most one each: captureId is unique) */
  async stepsOfCaptures(captureIds: readonly string[]): Promise<string[]> {
    if (!captureIds.length) return [];
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT "id" FROM "DebugStep" WHERE "captureId" IN (${Prisma.join([...captureIds])})`;
    return rows.map((r) => r.id);
  }

  /** every execution of the schedule from `from` on (a deleted endpoint's: running or not) */
  async executions(scheduleId: string, from: Date, limit: number): Promise<TimedRow[]> {
    return this.prisma.$queryRaw<TimedRow[]>`SELECT "id", "windowEnd" AS "at" FROM "MonitoringExecution"
      WHERE "scheduleId" = ${scheduleId} AND "windowEnd" >= ${from} ORDER BY "windowEnd" LIMIT ${limit}`;
  }

  /**
   * Finished executions of the schedule whose window ended before `before` (from `from` on), except
   * the latest one that did not fail and any after it: the next window starts where that one ended.
   */
  async expiredExecutions(scheduleId: string, from: Date, before: Date, limit: number): Promise<TimedRow[]> {
    return this.prisma.$queryRaw<TimedRow[]>`SELECT "id", "windowEnd" AS "at" FROM "MonitoringExecution"
      WHERE "scheduleId" = ${scheduleId} AND "windowEnd" >= ${from} AND "windowEnd" < ${before}
        AND "status" NOT IN ('Pending', 'InProgress')
        AND "windowEnd" < COALESCE(
          (SELECT MAX("windowEnd") FROM "MonitoringExecution" WHERE "scheduleId" = ${scheduleId} AND "status" <> 'Failed'),
          ${before})
      ORDER BY "windowEnd" LIMIT ${limit}`;
  }

  // ── children (tensors of steps, violations and metrics of executions) ──

  /** how many children each parent has (parents without children are left out) */
  async childCounts(table: ChildTable, parentIds: readonly string[]): Promise<{ parentId: string; count: number }[]> {
    if (!parentIds.length) return [];
    const parent = Prisma.raw(`"${CHILDREN[table].parent}"`);
    const rows = await this.prisma.$queryRaw<{ parentId: string; count: number | bigint }[]>`
      SELECT ${parent} AS "parentId", COUNT(*) AS "count" FROM ${Prisma.raw(`"${table}"`)}
      WHERE ${parent} IN (${Prisma.join([...parentIds])}) GROUP BY ${parent}`;
    return rows.map((r) => ({ parentId: r.parentId, count: Number(r.count) }));
  }

  /** the children of these parents, in one DELETE (the caller keeps their count within a batch) */
  async deleteChildrenOf(table: ChildTable, parentIds: readonly string[]): Promise<number> {
    if (!parentIds.length) return 0;
    return this.prisma.$executeRaw`DELETE FROM ${Prisma.raw(`"${table}"`)}
      WHERE ${Prisma.raw(`"${CHILDREN[table].parent}"`)} IN (${Prisma.join([...parentIds])})`;
  }

  /** a page of one parent's children, after `after` in the order of the child's key (a parent with more than a batch) */
  async childrenOf(table: ChildTable, parentId: string, after: string, limit: number): Promise<KeyedRow[]> {
    const { parent, key } = CHILDREN[table];
    return this.prisma.$queryRaw<
      KeyedRow[]
    >`SELECT "id", ${Prisma.raw(`"${key}"`)} AS "key" FROM ${Prisma.raw(`"${table}"`)}
      WHERE ${Prisma.raw(`"${parent}"`)} = ${parentId} AND ${Prisma.raw(`"${key}"`)} > ${after}
      ORDER BY ${Prisma.raw(`"${key}"`)} LIMIT ${limit}`;
  }

  async schedulesOf(endpointId: string): Promise<string[]> {
    const rows = await this.prisma.monitoringSchedule.findMany({ where: { endpointId }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  /** an endpoint's baselines (a handful; each row holds its statistics) */
  async baselinesOf(endpointId: string, limit: number): Promise<string[]> {
    const rows = await this.prisma.baseline.findMany({ where: { endpointId }, select: { id: true }, take: limit });
    return rows.map((r) => r.id);
  }

  // ── writes ──

  /** DELETE by primary key; the number of rows deleted (0 when another replica got there first) */
  async deleteIds(table: SweptTable, rowIds: readonly string[]): Promise<number> {
    if (!rowIds.length) return 0;
    return this.prisma.$executeRaw`DELETE FROM ${Prisma.raw(`"${table}"`)} WHERE "id" IN (${Prisma.join([...rowIds])})`;
  }

  /**
   * A deleted endpoint's schedules: renamed (their names free for a new endpoint's schedules) and never
   * due again, in one UPDATE, before their executions are deleted batch by batch.
   */
  async retireSchedulesOf(endpointId: string): Promise<number> {
    return this.prisma.$executeRaw`UPDATE "MonitoringSchedule" SET "name" = ${'deleted:'} || "id", "nextRunAt" = NULL
      WHERE "endpointId" = ${endpointId} AND "name" <> ${'deleted:'} || "id"`;
  }

  /**
   * The deleted endpoint's row, last, once its batches are done: its cascade can only meet what a
   * request in flight wrote after them.
   */
  async deleteEndpointRow(endpointId: string): Promise<number> {
    return this.prisma.$executeRaw`DELETE FROM "Endpoint" WHERE "id" = ${endpointId} AND "deletedAt" IS NOT NULL`;
  }
}

/** `AND "column" < before`, or nothing */
function upTo(column: string, before: Date | null): Prisma.Sql {
  return before ? Prisma.sql`AND ${Prisma.raw(`"${column}"`)} < ${before}` : Prisma.empty;
}
