/**
 * Two replicas (two apps in this process) on one PostgreSQL schema with Redis fan-out: a schedule
 * due once runs once, whichever replica's scheduler wins its lease, and alerts reach subscribers on
 * both replicas. Needs PostgreSQL (the postgres project) and Redis (VIGIL_TEST_REDIS, set by `npm test`
 * when Redis answers); skipped with a message otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { WsSubscription } from '../helpers/graphql.ts';
import { createEndpoint, createSchedule, insertCaptures, run, spread } from '../helpers/monitor.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const REDIS_URL = process.env.VIGIL_TEST_REDIS || '';
const skip =
  process.env.VIGIL_TEST_DB !== 'postgres'
    ? 'needs PostgreSQL: runs in the postgres project'
    : !REDIS_URL
      ? 'needs Redis: VIGIL_TEST_REDIS is empty (Redis did not answer when the suite started)'
      : null;
if (skip && process.env.VIGIL_TEST_DB === 'postgres') console.warn(`monitor-replicas.test.ts skipped: ${skip}`);

const ALERTS = graphql(`
  subscription FleetAlerts($endpoint: String!) { monitorAlerts(endpoint: $endpoint) { schedule executionId status } }
`);

describe.skipIf(skip !== null)(`model monitor on two replicas${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let endpointId: string;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const env = { REDIS_URL, SCHEDULER_INTERVAL_MS: '50' };
    a = await startTestServer({ database, env: { ...env, INSTANCE_ID: 'replica-a' } });
    b = await startTestServer({ database, env: { ...env, INSTANCE_ID: 'replica-b' } });
    expect([a.app.services.info.eventBus, b.app.services.info.eventBus]).toEqual(['redis', 'redis']);
    endpointId = await createEndpoint(a, 'fleet');
    await insertCaptures(
      a,
      endpointId,
      spread(60, Date.now() - 5000, Date.now() - 100).map((at) => ({ classId: 14, at })),
    );
  });
  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await database?.drop();
  });

  it('runs each due schedule exactly once across replicas, and both replicas’ subscribers get each alert once', async () => {
    const names = ['fleet-1', 'fleet-2', 'fleet-3', 'fleet-4'];
    for (const [i, name] of names.entries()) await createSchedule(i % 2 ? a : b, { name, endpoint: 'fleet' });
    const onA = new WsSubscription(a.wsUrl, ALERTS, { endpoint: 'fleet' });
    const onB = new WsSubscription(b.wsUrl, ALERTS, { endpoint: 'fleet' });
    await Promise.all([onA.ready(), onB.ready()]);

    // all four fall due at once, as if their cron time had come; both schedulers tick every 50 ms
    await a.app.database.prisma.monitoringSchedule.updateMany({
      where: { name: { in: names } },
      data: { nextRunAt: new Date(Date.now() - 1000) },
    });
    const [fromA, fromB] = await Promise.all([onA.waitFor(4, 10_000), onB.waitFor(4, 10_000)]);
    await new Promise((r) => setTimeout(r, 1000)); // many more ticks on both

    const executions = await a.app.database.prisma.monitoringExecution.findMany({
      include: { schedule: { select: { name: true } } },
    });
    expect(executions.map((e) => e.schedule?.name).sort()).toEqual(names);
    expect(
      executions.every(
        (e) => e.trigger === 'SCHEDULED' && e.status === 'CompletedWithViolations' && e.recordCount === 60,
      ),
    ).toBe(true);
    for (const events of [fromA, fromB]) {
      expect(events).toHaveLength(4);
      expect(events.map((e) => e.monitorAlerts.schedule).sort()).toEqual(names);
    }
    const schedules = await b.app.database.prisma.monitoringSchedule.findMany({ where: { name: { in: names } } });
    expect(schedules.every((s) => s.nextRunAt! > new Date() && s.leaseOwner === null)).toBe(true);
    await Promise.all([onA.close(), onB.close()]);
  });

  it("delivers a manual run's alert on one replica to a subscriber on the other within a second", async () => {
    await createSchedule(a, { name: 'fleet-manual', endpoint: 'fleet' });
    const onB = new WsSubscription(b.wsUrl, ALERTS, { endpoint: 'fleet' });
    await onB.ready();
    const execution = await run(a, 'fleet-manual');
    const finished = Date.now();
    const [event] = await onB.waitFor(1, 1000);
    expect(Date.now() - finished).toBeLessThan(1000);
    expect(event?.monitorAlerts).toEqual({
      schedule: 'fleet-manual',
      executionId: execution.id,
      status: 'CompletedWithViolations',
    });
    await onB.close();
  });

  it('serializes simultaneous manual runs of one schedule on both replicas: their windows tile', async () => {
    await createSchedule(b, { name: 'fleet-race', endpoint: 'fleet' });
    const [x, y] = await Promise.all([run(a, 'fleet-race'), run(b, 'fleet-race')]);
    const [earlier, later] = Date.parse(x.windowEnd) < Date.parse(y.windowEnd) ? [x, y] : [y, x];
    expect(later.windowStart).toBe(earlier.windowEnd);
    expect(earlier.recordCount + later.recordCount).toBe(60);
  });
});
