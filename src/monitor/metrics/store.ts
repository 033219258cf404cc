/** Prisma access for the metrics executions emitted: a schedule's series, and each schedule's latest values. */
import type { Db } from '../../db/prisma.ts';
import type { MetricPoint } from './types.ts';

/** a schedule with the metrics of its latest completed execution (none when no execution completed) */
export interface LatestMetrics {
  schedule: string;
  endpoint: { name: string; model: string };
  pausedAt: Date | null;
  latest: { windowEnd: Date; metrics: { name: string; value: number }[] } | null;
}

export class MetricStore {
  constructor(private readonly prisma: Db) {}

  /** One metric of a schedule over [from, to), oldest first (the newest `limit` points); null for an unknown schedule. */
  async series(
    scheduleName: string,
    name: string,
    range: { from?: Date | null; to?: Date | null },
    limit: number,
  ): Promise<MetricPoint[] | null> {
    const schedule = await this.prisma.monitoringSchedule.findUnique({
      where: { name: scheduleName },
      select: { id: true },
    });
    if (!schedule) return null;
    const rows = await this.prisma.metric.findMany({
      where: {
        scheduleId: schedule.id,
        name,
        timestamp: { ...(range.from ? { gte: range.from } : {}), ...(range.to ? { lt: range.to } : {}) },
      },
      orderBy: { timestamp: 'desc' },
      take: limit,
    });
    return rows
      .reverse()
      .map((r) => ({ name: r.name, value: r.value, timestamp: r.timestamp, executionId: r.executionId }));
  }

  /** every schedule, by name, with its latest completed execution's metrics (by name), in one query */
  async latestBySchedule(): Promise<LatestMetrics[]> {
    const schedules = await this.prisma.monitoringSchedule.findMany({
      orderBy: { name: 'asc' },
      select: {
        name: true,
        pausedAt: true,
        endpoint: { select: { name: true, model: true } },
        executions: {
          where: { status: { in: ['Completed', 'CompletedWithViolations'] } },
          orderBy: { windowEnd: 'desc' },
          take: 1,
          select: { windowEnd: true, metrics: { select: { name: true, value: true }, orderBy: { name: 'asc' } } },
        },
      },
    });
    return schedules.map((s) => ({
      schedule: s.name,
      endpoint: s.endpoint,
      pausedAt: s.pausedAt,
      latest: s.executions[0] ?? null,
    }));
  }
}
