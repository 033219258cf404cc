import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/database.ts';
import { expectTypename, GraphQLClient, WsSubscription } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';

const SERVER_INFO = graphql(`query ReplicaInfo { serverInfo { eventBus instanceId } }`);
const ENDPOINT_CHANGED = graphql(
  `subscription ReplicaEndpointChanged { endpointChanged { kind name endpoint { name } } }`,
);
const CREATE = graphql(
  `mutation CreateReplicaEndpoint($name: String!) { createEndpoint(input: { name: $name }) { __typename } }`,
);
const CAPTURE_ALL = graphql(`
  mutation CaptureEveryRequest($name: String!) {
    updateEndpoint(name: $name, input: { dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
  }
`);
const PREDICT = graphql(`
  mutation PredictShared($b: String!) {
    predict(endpoint: "shared", image: { base64: $b }) { __typename ... on Prediction { captureId } }
  }
`);

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
    const info = await new GraphQLClient(`${b.url}/graphql`).data(SERVER_INFO);
    expect(info.serverInfo).toEqual({ eventBus: 'redis', instanceId: 'replica-b' });
    const sub = new WsSubscription(`ws://127.0.0.1:${b.port}/graphql`, ENDPOINT_CHANGED);
    await sub.ready(500);
    const created = await new GraphQLClient(`${a.url}/graphql`).data(CREATE, { name: 'fanout' });
    expect(created.createEndpoint.__typename).toBe('Endpoint');
    const [event] = await sub.waitFor(1, 10_000);
    expect(event?.endpointChanged).toEqual({ kind: 'CREATED', name: 'fanout', endpoint: { name: 'fanout' } });
    await sub.close();
  });

  it("drops the other replica's cached endpoint snapshot when one replica updates it", async () => {
    const clientA = new GraphQLClient(`${a.url}/graphql`);
    const clientB = new GraphQLClient(`${b.url}/graphql`);
    const image = fixture('noise.png').toString('base64');
    expect((await clientA.data(CREATE, { name: 'shared' })).createEndpoint.__typename).toBe('Endpoint');
    // B serves (and caches) the endpoint with capture off
    const before = (await clientB.data(PREDICT, { b: image })).predict;
    expectTypename(before, 'Prediction');
    expect(before.captureId).toBeNull();
    expect((await clientA.data(CAPTURE_ALL, { name: 'shared' })).updateEndpoint.__typename).toBe('Endpoint');
    await new Promise((r) => setTimeout(r, 300)); // the change event crosses Redis; the snapshot TTL is 2 s
    const after = (await clientB.data(PREDICT, { b: image })).predict;
    expectTypename(after, 'Prediction');
    expect(after.captureId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
