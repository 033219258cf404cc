import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { graphql } from '../../src/graphql.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { GraphQLClient } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { spawnServer } from '../helpers/process.ts';

const CREATE = graphql(`
  mutation CreateDurableEndpoint {
    createEndpoint(input: { name: "durable", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
  }
`);
const PREDICT = graphql(`
  mutation PredictDurable($image: ImageInput!) {
    predict(endpoint: "durable", image: $image) { __typename ... on Prediction { captureId } }
  }
`);

describe('capture durability', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('keeps every acknowledged capture when the server is killed with SIGKILL under load', async () => {
    const server = await spawnServer({ DATABASE_URL: database.url });
    const client = new GraphQLClient(`${server.url}/graphql`);
    expect((await client.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');
    const image = { base64: fixture('warning_triangle.png').toString('base64') };

    const acknowledged: string[] = [];
    let failed = 0;
    let stop = false;
    // 8 clients keep requests in flight until the kill
    const clients = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          const { predict } = await client.data(PREDICT, { image });
          if (predict.__typename === 'Prediction' && predict.captureId) acknowledged.push(predict.captureId);
        } catch {
          failed++;
        }
      }
    });
    const deadline = Date.now() + 60_000;
    while (acknowledged.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
    expect(failed).toBeGreaterThan(0); // requests were in flight when the process died

    const db = openDatabase(database.url);
    try {
      const stored = await db.prisma.capture.findMany({ where: { id: { in: acknowledged } }, select: { id: true } });
      expect(stored.length).toBe(acknowledged.length);
    } finally {
      await db.close();
    }
  }, 240_000);
});
