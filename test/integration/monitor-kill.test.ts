/**
 * A replica SIGKILLed in the middle of a monitoring execution: two server processes on one PostgreSQL
 * schema, predict traffic on both, a manual run on replica A made long (VIGIL_TEST_EXECUTION_DELAY_MS)
 * and a short lease (MONITOR_LEASE_MS). A renews its lease while it runs; once A is killed, its
 * execution is marked failed (with the reason) within a scheduler tick of the lease's expiry, and
 * replica B's next execution covers its window: every capture counted exactly once, no two executions
 * at the same time. Needs PostgreSQL (the postgres project); skipped with a message otherwise.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { migrateDeploy } from '../../src/db/migrate/index.ts';
import { graphql } from '../../src/graphql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { expectTypename, GraphQLClient } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { CREATE_SCHEDULE, RUN } from '../helpers/monitor.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { sleep, until as untilWithin } from '../helpers/wait.ts';

const until = <T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 15_000) =>
  untilWithin(what, probe, timeoutMs);

const skip = process.env.VIGIL_TEST_DB !== 'postgres' ? 'needs PostgreSQL: runs in the postgres project' : null;

const LEASE_MS = 1500;

const CREATE = graphql(`
  mutation CreateKillEndpoint {
    createEndpoint(input: { name: "killed", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
  }
`);
const PREDICT = graphql(`
  mutation PredictBeforeKill($image: ImageInput!) {
    predict(endpoint: "killed", image: $image) { __typename ... on Prediction { captureId } }
  }
`);

/** closed-loop predict clients against one replica, until stopped (failures counted, not thrown) */
function traffic(server: ServerProcess, clients: number, acknowledged: string[]) {
  const client = new GraphQLClient(`${server.url}/graphql`);
  const image = { base64: fixture('warning_triangle.png').toString('base64') };
  let stopped = false;
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) {
      try {
        const { predict } = await client.data(PREDICT, { image });
        if (predict.__typename === 'Prediction' && predict.captureId) acknowledged.push(predict.captureId);
      } catch {
        await sleep(20); // the replica is gone
      }
    }
  });
  return async () => {
    stopped = true;
    await Promise.all(loops);
  };
}

describe.skipIf(skip !== null)(`a replica killed mid-execution${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let database: TestDatabase | undefined;
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.kill('SIGKILL')));
    await database?.drop();
  });

  it('fails the execution when its lease expires, and the next execution covers its window exactly once', async () => {
    database = await createTestDatabase('postgres');
    await migrateDeploy(database.url); // once, before two processes start on the schema
    const common = { DATABASE_URL: database.url, MONITOR_LEASE_MS: String(LEASE_MS), SCHEDULER_INTERVAL_MS: '100' };
    const [a, b] = await Promise.all([
      spawnServer({ ...common, INSTANCE_ID: 'replica-a', VIGIL_TEST_EXECUTION_DELAY_MS: '600000' }),
      spawnServer({ ...common, INSTANCE_ID: 'replica-b' }),
    ]);
    servers.push(a, b);
    const onA = new GraphQLClient(`${a.url}/graphql`);
    const onB = new GraphQLClient(`${b.url}/graphql`);
    const db = openDatabase(database.url);
    try {
      expect((await onA.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');
      const { createMonitoringSchedule } = await onA.data(CREATE_SCHEDULE, {
        input: { name: 'killed-s', endpoint: 'killed', cron: '0 0 1 1 *' },
      });
      expectTypename(createMonitoringSchedule, 'MonitoringSchedule');

      const acknowledged: string[] = [];
      const stopA = traffic(a, 2, acknowledged);
      const stopB = traffic(b, 2, acknowledged);
      await until('captures', async () => acknowledged.length >= 10, 30_000);

      // A runs the schedule by hand; its run holds the lease and takes "forever"
      const answerOnA = onA.request(RUN, { name: 'killed-s' }).catch(() => null);
      const stalled = await until('the execution on replica A', () =>
        db.prisma.monitoringExecution.findFirst({ where: { status: 'InProgress' } }),
      );
      const first = await db.prisma.monitoringSchedule.findUniqueOrThrow({ where: { name: 'killed-s' } });
      expect(first.leaseOwner).toMatch(/^replica-a:/);
      await sleep(2 * LEASE_MS);
      const renewed = await db.prisma.monitoringSchedule.findUniqueOrThrow({ where: { name: 'killed-s' } });
      expect(renewed.leaseOwner).toBe(first.leaseOwner);
      expect(renewed.leaseExpiresAt!.getTime()).toBeGreaterThan(first.leaseExpiresAt!.getTime());
      expect((await db.prisma.monitoringExecution.findUniqueOrThrow({ where: { id: stalled.id } })).status).toBe(
        'InProgress',
      );

      await a.kill('SIGKILL');
      await stopA();
      expect(await answerOnA).toBeNull(); // the request died with the replica
      const { leaseExpiresAt: expiresAt } = await db.prisma.monitoringSchedule.findUniqueOrThrow({
        where: { name: 'killed-s' },
      });

      // B's scheduler marks it failed within a tick of the lease's expiry
      const failed = await until('the killed execution marked failed', () =>
        db.prisma.monitoringExecution.findFirst({ where: { id: stalled.id, status: 'Failed' } }),
      );
      expect(failed.message).toMatch(/the replica running it stopped before it finished/);
      expect(failed.finishedAt!.getTime()).toBeGreaterThan(expiresAt!.getTime());
      expect(failed.finishedAt!.getTime() - expiresAt!.getTime()).toBeLessThan(1000);

      // the schedule falls due: B runs it, under steady traffic on B, over the failed window
      await db.prisma.monitoringSchedule.update({
        where: { name: 'killed-s' },
        data: { nextRunAt: new Date(Date.now() - 1000) },
      });
      const next = await until('the scheduled execution on replica B', () =>
        db.prisma.monitoringExecution.findFirst({
          where: { trigger: 'SCHEDULED', status: { in: ['Completed', 'CompletedWithViolations'] } },
        }),
      );
      expect(next.windowStart).toEqual(failed.windowStart);
      await stopB();
      const { runMonitoringSchedule: last } = await onB.data(RUN, { name: 'killed-s' });
      expectTypename(last, 'MonitoringExecution');
      expect(last.windowStart).toBe(next.windowEnd.toISOString());

      // every stored capture (acknowledged or not when A died) is counted by exactly one execution
      const endpoint = await db.prisma.endpoint.findUniqueOrThrow({ where: { name: 'killed' } });
      const stored = await db.prisma.capture.findMany({ where: { endpointId: endpoint.id }, select: { id: true } });
      expect(new Set(stored.map((c) => c.id))).toEqual(new Set([...stored.map((c) => c.id), ...acknowledged]));
      expect(next.recordCount + last.recordCount).toBe(stored.length);
      expect(next.recordCount).toBeGreaterThan(0);
      expect(last.recordCount).toBeGreaterThan(0);

      // no two executions ever ran at the same time
      const executions = await db.prisma.monitoringExecution.findMany({ orderBy: { startedAt: 'asc' } });
      expect(executions.map((e) => e.status)).toEqual(['Failed', next.status, last.status]);
      for (const [i, e] of executions.entries()) {
        const previous = executions[i - 1];
        if (previous) expect(e.startedAt.getTime()).toBeGreaterThanOrEqual(previous.finishedAt!.getTime());
      }
    } finally {
      await db.close();
    }
  }, 180_000);
});
