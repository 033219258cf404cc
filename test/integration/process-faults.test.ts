/**
 * The real server process (`node src/main.ts`) facing failures nothing else handles, and a Redis that
 * dies and comes back: an unhandled rejection is logged with an error id and the process serves on; an
 * uncaught exception is logged with an error id and the process exits 1, to be restarted; losing Redis
 * degrades /readyz and nothing else, and the process reconnects by itself.
 * (Runs in the sqlite project only: nothing here depends on the database.)
 */
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/database.ts';
import { expectTypename, GraphQLClient } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type PrivateRedis, privateRedisUnavailable, startRedis } from '../helpers/redis.ts';

const INJECT = pathToFileURL('test/fixtures/inject-process-fault.mjs').href;
const CREATE = graphql(`mutation CreateProcessEndpoint { createEndpoint(input: { name: "process" }) { __typename } }`);
const PREDICT = graphql(`
  mutation PredictInProcess($image: String!) {
    predict(endpoint: "process", image: { base64: $image }) { __typename ... on Prediction { label } }
  }
`);

/** the JSON fields of the first log line that contains `message` */
function logFields(output: string, message: string): Record<string, unknown> | undefined {
  const line = output.split('\n').find((l) => l.includes(message));
  const json = line?.slice(line.indexOf('{'));
  return json ? (JSON.parse(json) as Record<string, unknown>) : undefined;
}

async function readyStatus(server: ServerProcess): Promise<string> {
  const response = await fetch(`${server.url}/readyz`);
  return ((await response.json()) as { status: string }).status;
}

const skipped = TEST_DB !== 'sqlite';

describe.skipIf(skipped)('the server process', () => {
  let database: TestDatabase;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const server of servers) await server.kill('SIGKILL');
    await database?.drop();
  });

  async function spawn(env: Record<string, string>): Promise<ServerProcess> {
    const server = await spawnServer({ DATABASE_URL: database.url, ...env });
    servers.push(server);
    return server;
  }

  it('logs an unhandled rejection with an error id and keeps serving', async () => {
    const server = await spawn({ NODE_OPTIONS: `--import=${INJECT}`, VIGIL_TEST_FAULT: 'rejection' });
    server.child.kill('SIGUSR2');
    await expect.poll(() => server.output(), { timeout: 5000 }).toContain('unhandled promise rejection');
    const fields = logFields(server.output(), 'unhandled promise rejection');
    expect(fields?.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(fields?.error)).toContain('injected rejection');
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.kill();
  });

  it('logs an uncaught exception with an error id and exits 1', async () => {
    const server = await spawn({ NODE_OPTIONS: `--import=${INJECT}`, VIGIL_TEST_FAULT: 'exception' });
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGUSR2');
    expect(await exited).toBe(1);
    const fields = logFields(server.output(), 'uncaught exception');
    expect(fields?.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(fields?.error)).toContain('injected exception');
  });

  describe.skipIf(Boolean(privateRedisUnavailable()))('with a Redis that dies and comes back', () => {
    let redis: PrivateRedis;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(() => redis?.kill());

    it('serves on without Redis, /readyz degraded, and reconnects by itself', async () => {
      const server = await spawn({ REDIS_URL: redis.url });
      const client = new GraphQLClient(`${server.url}/graphql`);
      const image = fixture('noise.png').toString('base64');
      expect((await client.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');
      expect(await readyStatus(server)).toBe('ready');

      await redis.kill();
      await expect.poll(() => readyStatus(server), { timeout: 5000 }).toBe('degraded');
      // predictions publish events while Redis is away
      for (let i = 0; i < 3; i++) expectTypename((await client.data(PREDICT, { image })).predict, 'Prediction');

      await redis.start();
      await expect.poll(() => readyStatus(server), { timeout: 10_000 }).toBe('ready');
      expectTypename((await client.data(PREDICT, { image })).predict, 'Prediction');
      expect(server.child.exitCode).toBeNull();
      expect(server.output()).not.toMatch(/unhandled promise rejection|uncaught exception/);
    });
  });
});
