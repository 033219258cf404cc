/**
 * Bounded work, shed honestly: beyond MAX_QUEUED_IMAGES (inference) and MAX_QUEUED_WRITES (the capture
 * writer) a request is refused at once with the typed UNAVAILABLE error of predict's result union, HTTP 503
 * and Retry-After; every request answered a Prediction has its capture committed; the work of a client that went away is dropped before it
 * runs; /metrics shows the queues, the shed images and the errors by code.
 */
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, TEST_DB } from '../helpers/database.ts';
import { fixture } from '../helpers/images.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';

const PREDICT = `mutation Shed($image: ImageInput!) {
  predict(endpoint: "signs", image: $image) {
    __typename
    ... on Prediction { captureId }
    ... on UnavailableError { code message retryAfterSeconds }
  }
}`;
const CREATE =
  'mutation { createEndpoint(input: { name: "signs", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }';

const image = { base64: fixture('stop_like_octagon.png').toString('base64') };
const payload = () => ({ bytes: new Uint8Array(fixture('warning_triangle.png')) });

interface Answer {
  status: number;
  retryAfter: string | null;
  body: {
    data?: {
      predict: {
        __typename: string;
        captureId?: string | null;
        code?: string;
        message?: string;
        retryAfterSeconds?: number;
      };
    } | null;
    errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[];
  };
}

async function predictOverHttp(server: TestServer): Promise<Answer> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: PREDICT, variables: { image } }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Answer['body'],
  };
}

async function metric(server: TestServer, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const captureCount = (server: TestServer) => server.app.database.prisma.capture.count();

describe('the inference queue (MAX_QUEUED_IMAGES)', () => {
  const server = useTestServer({ env: { INFERENCE_DEVICE: 'cpu', MAX_QUEUED_IMAGES: '8' } });
  beforeAll(async () => {
    await server.client.data(CREATE);
  });

  it('refuses what does not fit with UNAVAILABLE, 503 and Retry-After; what it admits is answered and captured', async () => {
    const inference = server.app.services.inference;
    const before = await captureCount(server);
    // 128 items of one image: admitted into the empty queue (a request larger than the bound waits for an
    // empty queue only), they keep it full for a few hundred milliseconds
    const big = inference.predictBatch('signs', Array.from({ length: 128 }, payload));
    let answers: Answer[];
    try {
      while (inference.queuedImages === 0) await new Promise((r) => setTimeout(r, 1));
      expect(inference.queuedImages).toBeGreaterThan(8);
      answers = await Promise.all(Array.from({ length: 24 }, () => predictOverHttp(server)));
    } finally {
      const bigSettled = await big;
      expect(bigSettled.every((s) => s.status === 'fulfilled')).toBe(true);
    }

    // a refusal is a member of predict's result union, like its other typed errors; a request refused
    // whole answers HTTP 503 with Retry-After (server/request-metrics.ts)
    expect(answers.every((a) => !a.body.errors)).toBe(true);
    const refused = answers.filter((a) => a.body.data!.predict.__typename === 'UnavailableError');
    const served = answers.filter((a) => a.body.data!.predict.__typename === 'Prediction');
    expect(refused.length + served.length).toBe(answers.length);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.status).toBe(503);
      expect(a.body.data!.predict).toMatchObject({ code: 'UNAVAILABLE' });
      expect(a.body.data!.predict.message).toMatch(/MAX_QUEUED_IMAGES is 8/);
      const seconds = a.body.data!.predict.retryAfterSeconds!;
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(a.retryAfter).toBe(String(seconds));
    }
    for (const a of served) expect(a.status).toBe(200);
    // acknowledged means committed: the big batch's captures and each Prediction's, nothing for a refusal
    expect(await captureCount(server)).toBe(before + 128 + served.length);

    // nothing is left queued, and /metrics tells what happened
    expect(inference.queuedImages).toBe(0);
    expect(await metric(server, 'vigil_inference_queued_images')).toBe(0);
    expect(await metric(server, 'vigil_inference_queued_images_limit')).toBe(8);
    expect(await metric(server, 'vigil_inference_shed_images_total')).toBe(refused.length);
    expect(await metric(server, 'vigil_graphql_errors_total{operation="Shed",code="UNAVAILABLE"}')).toBe(
      refused.length,
    );
    expect(await metric(server, 'vigil_graphql_requests_total{operation="Shed",type="mutation"}')).toBe(24);
  });

  it('drops the images of a client that went away before they run', async () => {
    const inference = server.app.services.inference;
    const ran = () =>
      Object.values(inference.batchStats())
        .flat()
        .reduce((a, b) => a + b, 0);
    const before = { ran: ran(), captures: await captureCount(server) };

    // gone before it is admitted: nothing is decoded or queued
    const gone = new AbortController();
    gone.abort();
    await expect(inference.predict('signs', payload(), 3, { signal: gone.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });

    // gone while waiting behind a run: four stay, four leave
    const leaving = new AbortController();
    const staying = Array.from({ length: 4 }, () => inference.predict('signs', payload()));
    const left = Array.from({ length: 4 }, () => inference.predict('signs', payload(), 3, { signal: leaving.signal }));
    const settling = Promise.allSettled([...staying, ...left]);
    await new Promise((r) => setImmediate(r));
    leaving.abort();
    const settled = await settling;
    expect(settled.slice(0, 4).every((s) => s.status === 'fulfilled')).toBe(true);
    for (const s of settled.slice(4)) expect(s).toMatchObject({ status: 'rejected', reason: { name: 'AbortError' } });
    expect(ran() - before.ran).toBe(4);
    expect((await captureCount(server)) - before.captures).toBe(4);
    expect(inference.queuedImages).toBe(0);
  });
});

describe.skipIf(TEST_DB !== 'postgres')('the capture writer (MAX_QUEUED_WRITES), PostgreSQL', () => {
  // SQLite's busy wait is synchronous in better-sqlite3: a locked SQLite database stalls the event loop
  // rather than the commit queue, so the writer's bound is shown on PostgreSQL, where a lock only waits.
  const server = useTestServer({ env: { INFERENCE_DEVICE: 'cpu', MAX_QUEUED_WRITES: '2' } });
  beforeAll(async () => {
    await server.client.data(CREATE);
  });

  it('refuses requests beyond the uncommitted bound while the table is locked; those admitted commit after', async () => {
    const schema = new URL(server.database.url).searchParams.get('schema')!;
    const locker = new pg.Client({ connectionString: POSTGRES_URL });
    await locker.connect();
    const before = await captureCount(server);
    let answers: Answer[];
    try {
      await locker.query(`SET search_path TO "${schema}"`);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE "Capture" IN EXCLUSIVE MODE');
      const pending = Array.from({ length: 6 }, () => predictOverHttp(server));
      const deadline = Date.now() + 20_000;
      while (
        server.app.services.inference.queuedImages > 0 ||
        (await metric(server, 'vigil_capture_writes_pending')) !== 2
      ) {
        if (Date.now() > deadline) throw new Error('the writes did not queue up');
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(await metric(server, 'vigil_capture_writes_pending_limit')).toBe(2);
      expect(await metric(server, 'vigil_capture_commit_lag_seconds')).toBeGreaterThan(0.2);
      await locker.query('COMMIT');
      answers = await Promise.all(pending);
    } finally {
      await locker.end();
    }
    expect(answers.every((a) => !a.body.errors)).toBe(true);
    const served = answers.filter((a) => a.body.data!.predict.__typename === 'Prediction');
    const refused = answers.filter((a) => a.body.data!.predict.__typename === 'UnavailableError');
    expect(served).toHaveLength(2);
    expect(refused).toHaveLength(4);
    for (const a of refused) {
      expect(a.body.data!.predict.code).toBe('UNAVAILABLE');
      expect(a.body.data!.predict.message).toMatch(/MAX_QUEUED_WRITES/);
      expect(a.body.data!.predict.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(a.status).toBe(503);
      expect(a.retryAfter).toBe(String(a.body.data!.predict.retryAfterSeconds));
    }
    for (const a of served) expect(a.status).toBe(200);
    const ids = served.map((a) => a.body.data!.predict.captureId!);
    expect(await server.app.database.prisma.capture.count({ where: { id: { in: ids } } })).toBe(2);
    expect(await captureCount(server)).toBe(before + 2);
    expect(await metric(server, 'vigil_capture_writes_pending')).toBe(0);
    expect(await metric(server, 'vigil_capture_commit_lag_seconds')).toBe(0);
  });
});
