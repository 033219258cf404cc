/**
 * Execution windows tile: each starts where the previous one ended (inclusive) and ends when it runs
 * (exclusive), so captures inserted between runs — including at the exact boundary instant — are
 * counted once. And the scheduler runs a due schedule once, then sets its next run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename, WsSubscription } from '../helpers/graphql.ts';
import { createEndpoint, createSchedule, insertCaptures, run, spread } from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';

const ALERTS = graphql(`
  subscription MonitorAlerts($endpoint: String) {
    monitorAlerts(endpoint: $endpoint) { schedule status violations { description } }
  }
`);
const SCHEDULE_EXECUTIONS = graphql(`
  query ScheduleExecutions($name: String!) {
    monitoringSchedule(name: $name) {
      __typename
      nextRunAt
      executions { __typename ... on MonitoringScheduleExecutionList { executions { trigger recordCount } } }
    }
  }
`);

describe('monitoring windows and the scheduler', () => {
  const server = useTestServer({ env: { SCHEDULER_INTERVAL_MS: '100' } });
  let endpointId: string;

  beforeAll(async () => {
    endpointId = await createEndpoint(server, 'tiles');
  });

  const countIn = (from: string, to: string) =>
    server.app.database.prisma.capture.count({
      where: { endpointId, inferenceTime: { gte: new Date(from), lt: new Date(to) } },
    });

  it('counts every capture exactly once across consecutive executions, boundaries included', async () => {
    const first = Date.now() - 5000;
    await insertCaptures(
      server,
      endpointId,
      spread(50, first, Date.now() - 1000).map((at) => ({ classId: 1, at })),
    );
    await createSchedule(server, {
      name: 'tiles-s',
      endpoint: 'tiles',
      checks: { minSampleSize: 1, classShare: { enabled: false } },
    });

    const e1 = await run(server, 'tiles-s');
    expect(Date.parse(e1.windowStart)).toBe(first);
    expect(e1.recordCount).toBe(50);

    // at the boundary instant (belongs to the next window), just after it, and up to now
    const b1 = Date.parse(e1.windowEnd);
    await new Promise((r) => setTimeout(r, 30));
    await insertCaptures(server, endpointId, [
      { classId: 2, at: b1 },
      { classId: 2, at: b1 + 1 },
      ...spread(20, b1 + 2, Date.now()).map((at) => ({ classId: 2, at })),
    ]);
    const e2 = await run(server, 'tiles-s');
    expect(e2.windowStart).toBe(e1.windowEnd);
    expect(e2.recordCount).toBe(22);
    expect(e2.classCounts).toEqual({ '2': 22 });

    // one at the new boundary, and a late one whose time falls in the closed window: not counted again
    const b2 = Date.parse(e2.windowEnd);
    await insertCaptures(server, endpointId, [
      { classId: 3, at: b2 },
      { classId: 4, at: b2 - 1 },
    ]);
    const e3 = await run(server, 'tiles-s');
    expect(e3.windowStart).toBe(e2.windowEnd);
    expect(e3.classCounts).toEqual({ '3': 1 });

    // nothing new: an empty window, still tiling
    const e4 = await run(server, 'tiles-s');
    expect(e4).toMatchObject({ windowStart: e3.windowEnd, recordCount: 0, status: 'Completed' });
    expect(e4.message).toMatch(/^Completed: insufficient data: 0 captures/);

    const executions = [e1, e2, e3, e4];
    for (const [i, e] of executions.entries()) {
      expect(Date.parse(e.windowEnd)).toBeGreaterThanOrEqual(Date.parse(e.windowStart));
      if (i > 0) expect(e.windowStart).toBe(executions[i - 1]!.windowEnd);
    }
    // every capture inserted before its window closed is in exactly one window; the late one in none
    expect(executions.reduce((s, e) => s + e.recordCount, 0)).toBe(50 + 22 + 1);
    expect(await countIn(e1.windowStart, e4.windowEnd)).toBe(50 + 22 + 1 + 1);
    expect(await countIn(e1.windowStart, e1.windowEnd)).toBe(e1.recordCount);
    expect(await countIn(e2.windowStart, e2.windowEnd)).toBe(e2.recordCount + 1); // + the late one
    expect(await countIn(e3.windowStart, e3.windowEnd)).toBe(e3.recordCount);
  });

  it('the scheduler runs a due schedule once, sets its next run, and alerts', async () => {
    const id = await createEndpoint(server, 'due');
    await insertCaptures(
      server,
      id,
      spread(40, Date.now() - 2000, Date.now() - 100).map((at) => ({ classId: 14, at })),
    );
    const schedule = await createSchedule(server, { name: 'due-s', endpoint: 'due', cron: '0 0 1 1 *' });
    const alerts = new WsSubscription(server.wsUrl, ALERTS, { endpoint: 'due' });
    await alerts.ready();

    // make it due now, as if its cron time had come
    await server.app.database.prisma.monitoringSchedule.update({
      where: { id: schedule.id },
      data: { nextRunAt: new Date(Date.now() - 1000) },
    });
    const [alert] = await alerts.waitFor(1, 5000);
    expect(alert?.monitorAlerts).toMatchObject({
      schedule: 'due-s',
      status: 'CompletedWithViolations',
      violations: [{ description: 'Class 14 (Stop) predicted 100.00% of the time: exceeded 50.00% threshold' }],
    });
    await new Promise((r) => setTimeout(r, 500)); // several more ticks
    const { monitoringSchedule: s } = await server.client.data(SCHEDULE_EXECUTIONS, { name: 'due-s' });
    expectTypename(s, 'MonitoringSchedule');
    expectTypename(s.executions, 'MonitoringScheduleExecutionList');
    expect(s.executions.executions).toEqual([{ trigger: 'SCHEDULED', recordCount: 40 }]);
    expect(s.nextRunAt).toBe(`${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`);
    const row = await server.app.database.prisma.monitoringSchedule.findUniqueOrThrow({ where: { id: schedule.id } });
    expect([row.leaseOwner, row.leaseExpiresAt]).toEqual([null, null]);
    expect(alerts.events).toHaveLength(1);
    await alerts.close();
  });

  it('a manual run waits for a run in progress, and recovers a run a stopped process left behind', async () => {
    const id = await createEndpoint(server, 'lease');
    await insertCaptures(
      server,
      id,
      spread(5, Date.now() - 2000, Date.now() - 100).map((at) => ({ classId: 1, at })),
    );
    const schedule = await createSchedule(server, { name: 'lease-s', endpoint: 'lease', checks: { minSampleSize: 1 } });
    const prisma = server.app.database.prisma;
    // another process holds the lease for 400 ms: the manual run waits for it
    const expires = Date.now() + 400;
    await prisma.monitoringSchedule.update({
      where: { id: schedule.id },
      data: { leaseOwner: 'elsewhere', leaseExpiresAt: new Date(expires) },
    });
    const e1 = await run(server, 'lease-s');
    expect(Date.parse(e1.startedAt)).toBeGreaterThan(expires);
    expect(e1.recordCount).toBe(5);

    // a process that stopped mid-run left an execution InProgress (its lease has expired): it is
    // marked failed, and its window is covered by the next execution
    await prisma.monitoringExecution.create({
      data: {
        id: 'orphan',
        scheduleId: schedule.id,
        endpointId,
        trigger: 'SCHEDULED',
        status: 'InProgress',
        windowStart: new Date(e1.windowEnd),
        windowEnd: new Date(Date.now()),
      },
    });
    await insertCaptures(server, id, [{ classId: 1, at: Date.parse(e1.windowEnd) }]);
    const e2 = await run(server, 'lease-s');
    expect(e2.windowStart).toBe(e1.windowEnd);
    expect(e2.recordCount).toBe(1);
    const orphan = await prisma.monitoringExecution.findUniqueOrThrow({ where: { id: 'orphan' } });
    expect(orphan.status).toBe('Failed');
    expect(orphan.message).toMatch(/abandoned/);
  });
});
