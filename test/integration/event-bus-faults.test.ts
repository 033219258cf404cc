/**
 * Redis lost and back: two replicas (in-process apps) on one PostgreSQL schema and a private Redis this
 * test SIGKILLs and restarts on the same port, and a third replica started while Redis is down. Without
 * Redis each replica serves predict, queries and its own subscribers, /readyz says degraded (200), and
 * when Redis returns the events cross replicas again without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/database.ts';
import { expectTypename, WsSubscription } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { type PrivateRedis, privateRedisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CREATE = graphql(
  `mutation CreateFaultEndpoint($name: String!) { createEndpoint(input: { name: $name }) { __typename } }`,
);
const PREDICT = graphql(`
  mutation PredictThroughFaults($image: String!) {
    predict(endpoint: "faults", image: { base64: $image }) { __typename ... on Prediction { predictedClass label } }
  }
`);
const PREDICTIONS = graphql(`
  subscription FaultPredictions { predictions(endpoint: "faults") { endpoint predictedClass label } }
`);
const CHANGES = graphql(`subscription FaultEndpointChanges { endpointChanged { kind name } }`);
const ENDPOINTS = graphql(`query FaultEndpoints { endpoints { name } }`);

interface Readiness {
  status: string;
  checks: { name: string; ok: boolean; degraded?: boolean; detail?: string }[];
}

async function readiness(server: TestServer): Promise<{ code: number; body: Readiness }> {
  const response = await fetch(`${server.url}/readyz`);
  return { code: response.status, body: (await response.json()) as Readiness };
}

const why =
  TEST_DB !== 'postgres' ? 'runs in the postgres project (replicas share PostgreSQL)' : privateRedisUnavailable();
if (why) console.warn(`event-bus-faults: skipped: ${why}`);

describe.skipIf(Boolean(why))('replicas when Redis is lost and comes back', () => {
  let redis: PrivateRedis;
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let late: TestServer | undefined;
  const subscriptions: { close(): Promise<void> }[] = [];
  const image = fixture('noise.png').toString('base64');

  /** closed after the tests */
  function track<S extends { close(): Promise<void> }>(subscription: S): S {
    subscriptions.push(subscription);
    return subscription;
  }

  async function predictOn(server: TestServer) {
    const { predict } = await server.client.data(PREDICT, { image });
    expectTypename(predict, 'Prediction');
    return predict;
  }

  beforeAll(async () => {
    redis = await startRedis();
    database = await createTestDatabase();
    const env = { REDIS_URL: redis.url };
    a = await startTestServer({ database, env });
    b = await startTestServer({ database, env });
  });
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.close()));
    for (const server of [late, b, a]) await server?.close();
    await redis?.kill();
    await database?.drop();
  });

  it('while Redis is up: events cross replicas, and a replica delivers its own once', async () => {
    expect(a.app.bus.metrics.state).toBe('connected');
    const onA = track(new WsSubscription(a.wsUrl, CHANGES));
    const onB = track(new WsSubscription(b.wsUrl, CHANGES));
    await Promise.all([onA.ready(300), onB.ready(300)]);
    expect((await a.client.data(CREATE, { name: 'faults' })).createEndpoint.__typename).toBe('Endpoint');
    await onB.waitFor(1, 5000);
    await new Promise((r) => setTimeout(r, 300)); // Redis's copy of A's event has come back to A by now
    expect(onA.events).toEqual([{ endpointChanged: { kind: 'CREATED', name: 'faults' } }]);
    expect(onB.events).toEqual(onA.events);
    expect((await readiness(a)).body.status).toBe('ready');
  });

  it('Redis killed: each replica serves predict, queries and its own subscribers; /readyz is 200 degraded', async () => {
    const predictionsOnA = track(new WsSubscription(a.wsUrl, PREDICTIONS));
    const predictionsOnB = track(new WsSubscription(b.wsUrl, PREDICTIONS));
    await Promise.all([predictionsOnA.ready(300), predictionsOnB.ready(300)]);
    await redis.kill();
    await expect
      .poll(() => [a.app.bus.metrics.state, b.app.bus.metrics.state], { timeout: 5000 })
      .toEqual(['down', 'down']);
    expect(a.app.bus.metrics.redisOutages).toBe(1);

    const failedBefore = a.app.bus.metrics.fanoutFailed;
    const served = await predictOn(a);
    const [event] = await predictionsOnA.waitFor(1, 5000);
    expect(event?.predictions).toEqual({
      endpoint: 'faults',
      predictedClass: served.predictedClass,
      label: served.label,
    });
    expect(a.app.bus.metrics.fanoutFailed).toBe(failedBefore + 1);
    await predictOn(b);
    await predictionsOnB.waitFor(1, 5000);
    expect(predictionsOnA.events).toHaveLength(1); // B's prediction stayed on B
    expect((await b.client.data(ENDPOINTS)).endpoints.map((e) => e.name)).toContain('faults');

    const { code, body } = await readiness(a);
    expect(code).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.find((c) => c.name === 'eventBus')).toMatchObject({ ok: true, degraded: true });
    expect(body.checks.find((c) => c.name === 'eventBus')?.detail).toMatch(/Redis unreachable since/);
  });

  it('a replica started while Redis is down starts and serves', async () => {
    const started = Date.now();
    late = await startTestServer({ database, env: { REDIS_URL: redis.url } });
    expect(late.app.bus.metrics.state).toBe('down');
    expect((await readiness(late)).body.status).toBe('degraded');
    await predictOn(late);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('Redis back on the same port: every replica reconnects, and events cross replicas again', async () => {
    await redis.start();
    const replicas = [a, b, late!];
    await expect
      .poll(() => replicas.map((r) => r.app.bus.metrics.state), { timeout: 10_000, interval: 100 })
      .toEqual(['connected', 'connected', 'connected']);
    expect((await readiness(b)).body.status).toBe('ready');

    // resubscribed on the new connections: A's predictions reach B's and the late replica's subscribers
    const onB = track(new WsSubscription(b.wsUrl, PREDICTIONS));
    const onLate = track(new WsSubscription(late!.wsUrl, PREDICTIONS));
    await Promise.all([onB.ready(300), onLate.ready(300)]);
    const served = await predictOn(a);
    const expected = { endpoint: 'faults', predictedClass: served.predictedClass, label: served.label };
    expect((await onB.waitFor(1, 5000))[0]?.predictions).toEqual(expected);
    expect((await onLate.waitFor(1, 5000))[0]?.predictions).toEqual(expected);
    // and the late replica's predictions reach A's
    const onA = track(new WsSubscription(a.wsUrl, PREDICTIONS));
    await onA.ready(300);
    await predictOn(late!);
    await onA.waitFor(1, 5000);
  });
});
