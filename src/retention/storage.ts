/**
 * What each endpoint holds in the database: rows and bytes of captures and tensors, debug steps and
 * monitoring executions.
 *
 * Measured when asked, with one GROUP BY per table, rather than counters kept on the write path: a
 * counter row per endpoint would be updated by every group commit (one more contended row in the hot
 * transaction, and drift to repair after crashes and sweeps). The price is a scan of the endpoint's
 * rows per query: `LENGTH` of a blob reads its size, not its content (SQLite's record header;
 * PostgreSQL's varlena header, without detoasting), so the cost is per row, not per byte
 * (bench/retention.ts measures it). Fit for an operator's query, not a dashboard polling every
 * second; `storage(endpoint:)` scans one endpoint's rows only.
 */
import { type Db, Prisma } from '../db/prisma.ts';
import { EMPTY_USAGE, type StorageUsage } from './types.ts';

interface CountRow {
  endpointId: string;
  count: number | bigint;
  bytes?: number | bigint | null;
}

export class StorageStore {
  constructor(private readonly prisma: Db) {}

  /** usage of each of the endpoints (those without rows get zeros) */
  async usage(endpointIds: readonly string[]): Promise<Map<string, StorageUsage>> {
    const usage = new Map(endpointIds.map((id) => [id, structuredClone(EMPTY_USAGE)]));
    if (!endpointIds.length) return usage;
    const ids = Prisma.join([...endpointIds]);
    const captures = await this.prisma.$queryRaw<CountRow[]>`
      SELECT "endpointId", COUNT(*) AS "count", SUM(LENGTH("inputData")) AS "bytes"
      FROM "Capture" WHERE "endpointId" IN (${ids}) GROUP BY "endpointId"`;
    const steps = await this.prisma.$queryRaw<CountRow[]>`
      SELECT "endpointId", COUNT(*) AS "count" FROM "DebugStep" WHERE "endpointId" IN (${ids}) GROUP BY "endpointId"`;
    const tensors = await this.prisma.$queryRaw<CountRow[]>`
      SELECT s."endpointId" AS "endpointId", COUNT(*) AS "count", SUM(LENGTH(t."data")) AS "bytes"
      FROM "Tensor" t JOIN "DebugStep" s ON s."id" = t."stepId"
      WHERE s."endpointId" IN (${ids}) GROUP BY s."endpointId"`;
    const executions = await this.prisma.$queryRaw<CountRow[]>`
      SELECT s."endpointId" AS "endpointId", COUNT(*) AS "count"
      FROM "MonitoringExecution" e JOIN "MonitoringSchedule" s ON s."id" = e."scheduleId"
      WHERE s."endpointId" IN (${ids}) GROUP BY s."endpointId"`;
    const at = (row: CountRow) => usage.get(row.endpointId);
    for (const row of captures) {
      const u = at(row);
      if (u) u.captures = { count: Number(row.count), bytes: Number(row.bytes ?? 0) };
    }
    for (const row of steps) {
      const u = at(row);
      if (u) u.debugSteps = Number(row.count);
    }
    for (const row of tensors) {
      const u = at(row);
      if (u) u.tensors = { count: Number(row.count), bytes: Number(row.bytes ?? 0) };
    }
    for (const row of executions) {
      const u = at(row);
      if (u) u.executions = Number(row.count);
    }
    return usage;
  }
}
