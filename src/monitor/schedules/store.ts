/**
 * Prisma access for schedules, and the schedule lease: a conditional UPDATE that only one replica (or
 * one manual run) can win until it is released or expires, so that every execution of a schedule —
 * and so every window — is computed by one process at a time.
 */
import { type Db, isUniqueViolation, Prisma, type ScheduleRow } from '../../db/prisma.ts';
import { ENDPOINT_NAME_AND_MODEL, LIVE_ENDPOINT, type WithEndpoint } from '../../endpoints/store.ts';
import { parseStoredChecks } from '../checks/config.ts';
import type { ChecksConfig } from '../checks/types.ts';
import type { ScheduleRecord } from './types.ts';

export function toSchedule(row: WithEndpoint<ScheduleRow>): ScheduleRecord {
  return {
    id: row.id,
    name: row.name,
    endpointId: row.endpointId,
    endpointName: row.endpoint.name,
    model: row.endpoint.model,
    cron: row.cron,
    checks: parseStoredChecks(row.checks, row.baselineId !== null),
    baselineId: row.baselineId,
    nextRunAt: row.nextRunAt,
    pausedAt: row.pausedAt,
    leaseOwner: row.leaseOwner,
    leaseExpiresAt: row.leaseExpiresAt,
    executionRetentionDays: row.executionRetentionDays,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export interface ScheduleFields {
  cron: string;
  checks: ChecksConfig;
  baselineId: string | null;
  nextRunAt: Date | null;
  executionRetentionDays: number | null;
}

/**
 * Schedules of a deleted endpoint stay until the retention sweeper deletes them; every read leaves
 * them out (and the scheduler never runs them).
 */
const OF_LIVE_ENDPOINT = { endpoint: LIVE_ENDPOINT } as const;

export class ScheduleStore {
  constructor(private readonly prisma: Db) {}

  /** null when a schedule of that name exists */
  async insert(s: ScheduleFields & { id: string; name: string; endpointId: string }): Promise<ScheduleRecord | null> {
    try {
      const row = await this.prisma.monitoringSchedule.create({
        data: { ...s, checks: JSON.stringify(s.checks) },
        include: ENDPOINT_NAME_AND_MODEL,
      });
      return toSchedule(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async update(id: string, s: ScheduleFields): Promise<ScheduleRecord | null> {
    const result = await this.prisma.monitoringSchedule.updateMany({
      where: { id },
      data: { ...s, checks: JSON.stringify(s.checks) },
    });
    return result.count ? this.get(id) : null;
  }

  async get(id: string): Promise<ScheduleRecord | null> {
    const row = await this.prisma.monitoringSchedule.findUnique({
      where: { id, ...OF_LIVE_ENDPOINT },
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return row && toSchedule(row);
  }

  async getByName(name: string): Promise<ScheduleRecord | null> {
    const row = await this.prisma.monitoringSchedule.findUnique({
      where: { name, ...OF_LIVE_ENDPOINT },
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return row && toSchedule(row);
  }

  async list(endpointId?: string): Promise<ScheduleRecord[]> {
    const rows = await this.prisma.monitoringSchedule.findMany({
      where: endpointId ? { endpointId, ...OF_LIVE_ENDPOINT } : OF_LIVE_ENDPOINT,
      include: ENDPOINT_NAME_AND_MODEL,
      orderBy: { name: 'asc' },
    });
    return rows.map(toSchedule);
  }

  /** pauses (a date) or resumes (null) the schedule, with its next run (null while paused) */
  async setPaused(id: string, pausedAt: Date | null, nextRunAt: Date | null): Promise<ScheduleRecord | null> {
    const result = await this.prisma.monitoringSchedule.updateMany({
      where: { id, ...OF_LIVE_ENDPOINT },
      data: { pausedAt, nextRunAt },
    });
    return result.count ? this.get(id) : null;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.prisma.monitoringSchedule.deleteMany({ where: { id } })).count === 1;
  }

  /** schedules not paused whose next run is due and whose lease is free, soonest first */
  async due(now: Date, limit = 20): Promise<{ id: string; name: string }[]> {
    return this.prisma.monitoringSchedule.findMany({
      where: {
        nextRunAt: { lte: now },
        pausedAt: null,
        OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }],
        ...OF_LIVE_ENDPOINT,
      },
      select: { id: true, name: true },
      orderBy: { nextRunAt: 'asc' },
      take: limit,
    });
  }

  // ── lease ──

  /**
   * Takes the schedule's lease for `owner` until now + leaseMs, in one conditional UPDATE; true when
   * this call won it. `dueOnly`: only when its next run is due and it is not paused (the scheduler: a
   * pause between listing and claiming wins), else any time (a manual run).
   */
  async claim(scheduleId: string, owner: string, now: Date, leaseMs: number, dueOnly: boolean): Promise<boolean> {
    const until = new Date(now.getTime() + leaseMs);
    const due = dueOnly
      ? Prisma.sql`AND "nextRunAt" IS NOT NULL AND "nextRunAt" <= ${now} AND "pausedAt" IS NULL`
      : Prisma.empty;
    const claimed = await this.prisma.$executeRaw`
      UPDATE "MonitoringSchedule" SET "leaseOwner" = ${owner}, "leaseExpiresAt" = ${until}
      WHERE "id" = ${scheduleId} ${due} AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${now})`;
    return claimed === 1;
  }

  /**
   * Extends the lease `owner` holds to now + leaseMs; false when `owner` no longer holds it (another
   * replica took it after it expired), in which case the run must stop without writing.
   */
  async renew(scheduleId: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const until = new Date(now.getTime() + leaseMs);
    const renewed = await this.prisma.$executeRaw`
      UPDATE "MonitoringSchedule" SET "leaseExpiresAt" = ${until}
      WHERE "id" = ${scheduleId} AND "leaseOwner" = ${owner}`;
    return renewed === 1;
  }

  /** Gives the lease back (only if `owner` still holds it), setting the next run when given. */
  async release(scheduleId: string, owner: string, nextRunAt?: Date | null): Promise<void> {
    const next = nextRunAt === undefined ? Prisma.empty : Prisma.sql`, "nextRunAt" = ${nextRunAt}`;
    await this.prisma.$executeRaw`
      UPDATE "MonitoringSchedule" SET "leaseOwner" = NULL, "leaseExpiresAt" = NULL ${next}
      WHERE "id" = ${scheduleId} AND "leaseOwner" = ${owner}`;
  }
}
