import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/database.ts';
import { GraphQLClient, WsSubscription } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';

const redisUrl = process.env.VIGIL_TEST_REDIS;
const why =
  TEST_DB !== 'postgres'
    ? 'runs in the postgres project (replicas share PostgreSQL)'
    : !redisUrl
      ? 'Redis is not reachable'
      : '';
if (why) console.warn(`redis-fanout: skipped: ${why}`);

describe.skipIf(Boolean(why))('two replicas on one PostgreSQL and one Redis', () => {
  let database: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.url, REDIS_URL: redisUrl! };
    a = await spawnServer({ ...env, INSTANCE_ID: 'replica-a' });
    b = await spawnServer({ ...env, INSTANCE_ID: 'replica-b' });
  }, 240_000);
  afterAll(async () => {
    await a?.kill();
    await b?.kill();
    await database?.drop();
  });

  it('delivers an event published through one process to a subscriber connected to the other', async () => {
    const info = await new GraphQLClient(`${b.url}/graphql`).data(`{ serverInfo { eventBus instanceId } }`);
    expect(info.serverInfo).toEqual({ eventBus: 'redis', instanceId: 'replica-b' });
    const sub = new WsSubscription(
      `ws://127.0.0.1:${b.port}/graphql`,
      `subscription { endpointChanged { kind name endpoint { name } } }`,
    );
    await sub.ready(500);
    await new GraphQLClient(`${a.url}/graphql`).data(
      `mutation { createEndpoint(input: { name: "fanout" }) { __typename } }`,
    );
    const [event] = await sub.waitFor(1, 10_000);
    expect(event.endpointChanged).toEqual({ kind: 'CREATED', name: 'fanout', endpoint: { name: 'fanout' } });
    await sub.close();
  });

  it("drops the other replica's cached endpoint snapshot when one replica updates it", async () => {
    const clientA = new GraphQLClient(`${a.url}/graphql`);
    const clientB = new GraphQLClient(`${b.url}/graphql`);
    const predict = `mutation($b: String!) { predict(endpoint: "shared", image: { base64: $b }) { ... on Prediction { captureId } } }`;
    const image = fixture('noise.png').toString('base64');
    await clientA.data(`mutation { createEndpoint(input: { name: "shared" }) { __typename } }`);
    // B serves (and caches) the endpoint with capture off
    expect((await clientB.data(predict, { b: image })).predict.captureId).toBeNull();
    await clientA.data(
      `mutation { updateEndpoint(name: "shared", input: { dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }`,
    );
    await new Promise((r) => setTimeout(r, 300)); // the change event crosses Redis; the snapshot TTL is 2 s
    expect((await clientB.data(predict, { b: image })).predict.captureId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
