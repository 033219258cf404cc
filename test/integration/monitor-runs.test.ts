/**
 * Monitoring runs that finish: a run under steady predict traffic ends promptly and counts exactly
 * the captures stamped before its cut-off; a run renews its lease while it works, writes nothing once
 * the lease is lost, and its execution is marked failed when the lease expires; stopping the
 * scheduler at shutdown fails the running execution and releases its lease.
 * (test/integration/monitor-kill.test.ts kills a real replica mid-run.)
 */
import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { createEndpoint, createSchedule, insertCaptures, RUN, run, spread } from '../helpers/monitor.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';
import { sleep, until } from '../helpers/wait.ts';

const CREATE_CAPTURED = graphql(`
  mutation CreateCapturedEndpoint($name: String!) {
    createEndpoint(
      input: { name: $name, dataCapture: { enabled: true, samplingPercentage: 100 }, debugHook: { enabled: true, saveInterval: 1, collections: ["fullgrad"] } }
    ) {
      __typename ... on Endpoint { id }
    }
  }
`);
const PREDICT = graphql(`
  mutation PredictUnderRun($endpoint: String!, $image: ImageInput!) {
    predict(endpoint: $endpoint, image: $image) { __typename ... on Prediction { captureId } }
  }
`);

function inProgress(server: TestServer, scheduleName: string) {
  return until(`an InProgress execution of ${scheduleName}`, () =>
    server.app.database.prisma.monitoringExecution.findFirst({
      where: { status: 'InProgress', schedule: { name: scheduleName } },
    }),
  );
}

describe('a monitoring run under steady predict traffic', () => {
  const server = useTestServer();

  it('finishes promptly and counts exactly the captures stamped before its cut-off', async () => {
    const { createEndpoint: endpoint } = await server.client.data(CREATE_CAPTURED, { name: 'busy' });
    expectTypename(endpoint, 'Endpoint');
    await createSchedule(server, { name: 'busy-s', endpoint: 'busy' });
    const image = { base64: fixture('warning_triangle.png').toString('base64') };

    let stop = false;
    let acknowledged = 0;
    // Open-loop traffic: a request every few milliseconds whatever the answers, up to 12 in flight, each
    // saving a debug step (~0.7 MB of tensors) with its capture: new captures reach the writer while it
    // commits earlier ones, so it is never idle (the old wait for an idle writer timed out here).
    const inFlight = new Set<Promise<void>>();
    const traffic = (async () => {
      while (!stop) {
        if (inFlight.size < 12) {
          const request = server.client.data(PREDICT, { endpoint: 'busy', image }).then(({ predict }) => {
            expectTypename(predict, 'Prediction');
            acknowledged++;
          });
          inFlight.add(request);
          const done = () => inFlight.delete(request);
          request.then(done, done);
        }
        await sleep(4);
      }
      await Promise.all(inFlight);
    })();
    await until('traffic', async () => acknowledged >= 20, 30_000);

    const started = Date.now();
    const first = await run(server, 'busy-s');
    const firstMs = Date.now() - started;
    const second = await run(server, 'busy-s');
    stop = true;
    await traffic;

    // bounded by the commits in flight at the cut-off (a few seconds on a loaded 2-core machine), not by the traffic
    expect(firstMs).toBeLessThan(20_000);
    expect(['Completed', 'CompletedWithViolations']).toContain(first.status);
    expect(second.windowStart).toBe(first.windowEnd);
    // every capture stamped before each cut-off was committed before it counted, however late
    const prisma = server.app.database.prisma;
    for (const e of [first, second]) {
      const stored = await prisma.capture.count({
        where: { endpointId: endpoint.id, inferenceTime: { gte: new Date(e.windowStart), lt: new Date(e.windowEnd) } },
      });
      expect(e.recordCount).toBe(stored);
    }
    expect(first.recordCount).toBeGreaterThanOrEqual(20);
    expect(second.recordCount).toBeGreaterThan(0);
  });
});

describe('monitoring leases', () => {
  const LEASE_MS = 600;
  const DELAY_MS = 1500;
  const server = useTestServer({
    env: {
      MONITOR_LEASE_MS: String(LEASE_MS),
      VIGIL_TEST_EXECUTION_DELAY_MS: String(DELAY_MS),
      SCHEDULER_INTERVAL_MS: '100',
    },
  });
  let endpointId: string;

  it('renews the lease while a run works longer than the lease', async () => {
    endpointId = await createEndpoint(server, 'leased');
    await insertCaptures(
      server,
      endpointId,
      spread(10, Date.now() - 5000, Date.now() - 100).map((at) => ({ classId: 3, at })),
    );
    await createSchedule(server, { name: 'leased-s', endpoint: 'leased' });
    const prisma = server.app.database.prisma;

    const running = run(server, 'leased-s');
    const execution = await inProgress(server, 'leased-s');
    const held = await prisma.monitoringSchedule.findUniqueOrThrow({ where: { name: 'leased-s' } });
    await sleep(2 * LEASE_MS);
    // twice its lease later, the run still holds a renewed lease and its execution is not marked failed
    const later = await prisma.monitoringSchedule.findUniqueOrThrow({ where: { name: 'leased-s' } });
    expect(later.leaseOwner).toBe(held.leaseOwner);
    expect(later.leaseExpiresAt!.getTime()).toBeGreaterThan(held.leaseExpiresAt!.getTime());
    expect((await prisma.monitoringExecution.findUniqueOrThrow({ where: { id: execution.id } })).status).toBe(
      'InProgress',
    );

    const finished = await running;
    expect(finished.id).toBe(execution.id);
    expect(finished.status).toBe('Completed');
    expect(finished.recordCount).toBe(10);
    expect((await prisma.monitoringSchedule.findUniqueOrThrow({ where: { name: 'leased-s' } })).leaseOwner).toBeNull();
  });

  it('stops a run whose lease was taken without writing, fails its execution when the lease expires, and covers its window next', async () => {
    const prisma = server.app.database.prisma;
    const previous = await prisma.monitoringExecution.findFirstOrThrow({ where: { schedule: { name: 'leased-s' } } });
    await insertCaptures(
      server,
      endpointId,
      spread(5, previous.windowEnd.getTime(), Date.now()).map((at) => ({ classId: 4, at })),
    );

    const running = server.client.data(RUN, { name: 'leased-s' });
    const stalled = await inProgress(server, 'leased-s');
    // another replica takes the lease (as if this run had stalled past its expiry)
    await prisma.monitoringSchedule.update({
      where: { name: 'leased-s' },
      data: { leaseOwner: 'thief', leaseExpiresAt: new Date(Date.now() + 60_000) },
    });
    const { runMonitoringSchedule: stopped } = await running;
    expectTypename(stopped, 'MonitoringExecution');
    expect(stopped.id).toBe(stalled.id);
    expect(stopped.status).toBe('InProgress'); // it wrote nothing
    await sleep(DELAY_MS); // past the moment the run would have finished
    expect((await prisma.monitoringExecution.findUniqueOrThrow({ where: { id: stalled.id } })).status).toBe(
      'InProgress',
    );

    // the taker stops too: once its lease expires, the scheduler's tick marks the execution failed
    const expired = Date.now();
    await prisma.monitoringSchedule.update({
      where: { name: 'leased-s' },
      data: { leaseExpiresAt: new Date(expired) },
    });
    const failed = await until('the stalled execution marked failed', () =>
      prisma.monitoringExecution.findFirst({ where: { id: stalled.id, status: 'Failed' } }),
    );
    expect(failed.message).toMatch(/abandoned: the replica running it stopped before it finished/);
    expect(failed.finishedAt!.getTime() - expired).toBeLessThan(1000);

    const next = await run(server, 'leased-s');
    expect(next.windowStart).toBe(stalled.windowStart.toISOString());
    expect(next.recordCount).toBe(5);
  });

  it('stops the running execution at shutdown: marked failed, lease released, no new runs', async () => {
    const prisma = server.app.database.prisma;
    const running = server.client.data(RUN, { name: 'leased-s' });
    const execution = await inProgress(server, 'leased-s');

    const stopping = Date.now();
    await server.app.services.monitor.scheduler.stop(100);
    expect(Date.now() - stopping).toBeLessThan(DELAY_MS);

    const { runMonitoringSchedule: answered } = await running;
    expectTypename(answered, 'MonitoringExecution');
    expect(answered.id).toBe(execution.id);
    expect(answered.status).toBe('Failed');
    expect(answered.message).toMatch(/shut down before it finished/);
    const schedule = await prisma.monitoringSchedule.findUniqueOrThrow({ where: { name: 'leased-s' } });
    expect([schedule.leaseOwner, schedule.leaseExpiresAt]).toEqual([null, null]);

    const { runMonitoringSchedule: refused } = await server.client.data(RUN, { name: 'leased-s' });
    expectTypename(refused, 'ConflictError');
    expect(refused.message).toMatch(/shutting down/);
  });
});
