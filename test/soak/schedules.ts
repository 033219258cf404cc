/**
 * The soak's monitoring schedules, and firing them every few seconds. Cron's finest step is a minute, so
 * the schedules have the cron `* * * * *` and the soak moves their `nextRunAt` to now, as the cron time
 * coming would: both replicas' schedulers then race for each schedule's lease, as on a cron firing.
 */
import type { Database } from '../../src/db/client.ts';
import type { ScheduleInput } from '../helpers/monitor.ts';
import { sleep } from '../helpers/wait.ts';
import { LEASE_MS } from './cluster.ts';
import { ENDPOINT } from './traffic.ts';

/** three schedules: one that always alerts, one on the default checks, one that never alerts */
export const SCHEDULES: ScheduleInput[] = [
  // any window with a capture has a class above 5 %
  { name: 'soak-alerting', endpoint: ENDPOINT, checks: { classShare: { threshold: 0.05 }, minSampleSize: 1 } },
  { name: 'soak-default', endpoint: ENDPOINT },
  {
    name: 'soak-quiet',
    endpoint: ENDPOINT,
    checks: { classShare: { enabled: false }, lowConfidence: { enabled: false }, completeness: { enabled: false } },
  },
].map((s) => ({ ...s, cron: '* * * * *' }));

/** the schedules' cron time has come */
export async function fireSchedules(db: Database): Promise<void> {
  await db.prisma.monitoringSchedule.updateMany({
    where: { name: { startsWith: 'soak-' } },
    data: { nextRunAt: new Date() },
  });
}

/** waits up to `ms` for an execution run by `instanceId` (its schedule's lease owner); whether one came */
export async function holdsLease(db: Database, instanceId: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const running = await db.prisma.monitoringExecution.findFirst({
      where: { status: 'InProgress', schedule: { leaseOwner: { startsWith: `${instanceId}:` } } },
      select: { id: true },
    });
    if (running) return true;
    await sleep(50);
  }
  return false;
}

/**
 * Fires each schedule until it has a completed execution whose window ends after the traffic did, and
 * waits for every run to finish: then every capture lies in some schedule window.
 */
export async function finalRuns(db: Database, trafficEnd: number): Promise<void> {
  const deadline = Date.now() + 4 * LEASE_MS + 30_000;
  for (;;) {
    const schedules = await db.prisma.monitoringSchedule.findMany({
      where: { name: { startsWith: 'soak-' } },
      select: {
        id: true,
        leaseOwner: true,
        executions: { where: { windowEnd: { gt: new Date(trafficEnd) } }, select: { status: true } },
      },
    });
    const running = await db.prisma.monitoringExecution.count({ where: { status: { in: ['Pending', 'InProgress'] } } });
    const uncovered = schedules.filter(
      (s) => !s.executions.some((e) => e.status === 'Completed' || e.status === 'CompletedWithViolations'),
    );
    if (!uncovered.length && !running && schedules.every((s) => s.leaseOwner === null)) return;
    if (Date.now() > deadline) throw new Error('the last executions did not finish in time');
    await db.prisma.monitoringSchedule.updateMany({
      where: { id: { in: uncovered.map((s) => s.id) }, leaseOwner: null },
      data: { nextRunAt: new Date() },
    });
    await sleep(250);
  }
}
