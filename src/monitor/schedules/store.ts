/**
 * Prisma access for baselines and schedules, and the schedule lease: a conditional UPDATE that only
 * one replica (or one manual run) can win until it is released or expires, so that every execution
 * of a schedule — and so every window — is computed by one process at a time.
 */
import { isUniqueViolation, Prisma, type BaselineRow, type Db, type ScheduleRow } from '../../db/prisma.ts';
import { parseStoredChecks } from '../checks/config.ts';
import type { BaselineRecord, BaselineSource, ChecksConfig, Constraints, ScheduleRecord, Statistics } from '../baselines/types.ts';

type WithEndpoint<T> = T & { endpoint: { name: string; model: string } };
const ENDPOINT = { endpoint: { select: { name: true, model: true } } } as const;

export function toBaseline(row: WithEndpoint<BaselineRow>): BaselineRecord {
  return {
    id: row.id,
    endpointId: row.endpointId,
    endpointName: row.endpoint.name,
    model: row.endpoint.model,
    name: row.name,
    source: row.source as BaselineSource,
    itemCount: row.itemCount,
    statistics: JSON.parse(row.statistics) as Statistics,
    constraints: JSON.parse(row.constraints) as Constraints,
    createdAt: row.createdAt,
  };
}

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
    leaseOwner: row.leaseOwner,
    leaseExpiresAt: row.leaseExpiresAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export interface NewBaseline {
  id: string;
  endpointId: string;
  name: string;
  source: BaselineSource;
  itemCount: number;
  statistics: Statistics;
  constraints: Constraints;
}

export interface ScheduleFields {
  cron: string;
  checks: ChecksConfig;
  baselineId: string | null;
  nextRunAt: Date | null;
}

export class MonitorStore {
  constructor(readonly prisma: Db) {}

  // ── baselines ──

  /** null when the endpoint already has a baseline of that name */
  async insertBaseline(b: NewBaseline): Promise<BaselineRecord | null> {
    try {
      const row = await this.prisma.baseline.create({
        data: { ...b, statistics: JSON.stringify(b.statistics), constraints: JSON.stringify(b.constraints) },
        include: ENDPOINT,
      });
      return toBaseline(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async baseline(id: string): Promise<BaselineRecord | null> {
    const row = await this.prisma.baseline.findUnique({ where: { id }, include: ENDPOINT });
    return row && toBaseline(row);
  }

  /** several baselines by id, in one query (for DataLoaders) */
  async baselinesByIds(ids: readonly string[]): Promise<Map<string, BaselineRecord>> {
    const rows = await this.prisma.baseline.findMany({ where: { id: { in: [...ids] } }, include: ENDPOINT });
    return new Map(rows.map((row) => [row.id, toBaseline(row)]));
  }

  async baselineByName(endpointId: string, name: string): Promise<BaselineRecord | null> {
    const row = await this.prisma.baseline.findUnique({ where: { endpointId_name: { endpointId, name } }, include: ENDPOINT });
    return row && toBaseline(row);
  }

  async baselines(endpointId?: string): Promise<BaselineRecord[]> {
    const rows = await this.prisma.baseline.findMany({
      where: endpointId ? { endpointId } : {},
      include: ENDPOINT,
      orderBy: [{ createdAt: 'asc' }, { name: 'asc' }],
    });
    return rows.map(toBaseline);
  }

  async deleteBaseline(id: string): Promise<boolean> {
    return (await this.prisma.baseline.deleteMany({ where: { id } })).count === 1;
  }

  // ── schedules ──

  async insertSchedule(s: ScheduleFields & { id: string; name: string; endpointId: string }): Promise<ScheduleRecord | null> {
    try {
      const row = await this.prisma.monitoringSchedule.create({ data: { ...s, checks: JSON.stringify(s.checks) }, include: ENDPOINT });
      return toSchedule(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async updateSchedule(id: string, s: ScheduleFields): Promise<ScheduleRecord | null> {
    const result = await this.prisma.monitoringSchedule.updateMany({ where: { id }, data: { ...s, checks: JSON.stringify(s.checks) } });
    return result.count ? this.schedule(id) : null;
  }

  async schedule(id: string): Promise<ScheduleRecord | null> {
    const row = await this.prisma.monitoringSchedule.findUnique({ where: { id }, include: ENDPOINT });
    return row && toSchedule(row);
  }

  async scheduleByName(name: string): Promise<ScheduleRecord | null> {
    const row = await this.prisma.monitoringSchedule.findUnique({ where: { name }, include: ENDPOINT });
    return row && toSchedule(row);
  }

  async schedules(endpointId?: string): Promise<ScheduleRecord[]> {
    const rows = await this.prisma.monitoringSchedule.findMany({
      where: endpointId ? { endpointId } : {},
      include: ENDPOINT,
      orderBy: { name: 'asc' },
    });
    return rows.map(toSchedule);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return (await this.prisma.monitoringSchedule.deleteMany({ where: { id } })).count === 1;
  }

  /** schedules whose next run is due and whose lease is free, soonest first */
  async dueSchedules(now: Date, limit = 20): Promise<{ id: string; name: string }[]> {
    return this.prisma.monitoringSchedule.findMany({
      where: { nextRunAt: { lte: now }, OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }] },
      select: { id: true, name: true },
      orderBy: { nextRunAt: 'asc' },
      take: limit,
    });
  }

  // ── lease ──

  /**
   * Takes the schedule's lease for `owner` until now + leaseMs, in one conditional UPDATE; true when
   * this call won it. `dueOnly`: only when its next run is due (the scheduler), else any time (a manual run).
   */
  async claim(scheduleId: string, owner: string, now: Date, leaseMs: number, dueOnly: boolean): Promise<boolean> {
    const until = new Date(now.getTime() + leaseMs);
    const due = dueOnly ? Prisma.sql`AND "nextRunAt" IS NOT NULL AND "nextRunAt" <= ${now}` : Prisma.empty;
    const claimed = await this.prisma.$executeRaw`
      UPDATE "MonitoringSchedule" SET "leaseOwner" = ${owner}, "leaseExpiresAt" = ${until}
      WHERE "id" = ${scheduleId} ${due} AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${now})`;
    return claimed === 1;
  }

  /** Gives the lease back (only if `owner` still holds it), setting the next run when given. */
  async release(scheduleId: string, owner: string, nextRunAt?: Date | null): Promise<void> {
    const next = nextRunAt === undefined ? Prisma.empty : Prisma.sql`, "nextRunAt" = ${nextRunAt}`;
    await this.prisma.$executeRaw`
      UPDATE "MonitoringSchedule" SET "leaseOwner" = NULL, "leaseExpiresAt" = NULL ${next}
      WHERE "id" = ${scheduleId} AND "leaseOwner" = ${owner}`;
  }
}
