/**
 * Graceful shutdown of the real server process: on SIGTERM, requests in flight are answered and their
 * captures committed, new connections are refused at once, graphql-ws subscribers are closed with 1001 and
 * SSE streams complete, and the process exits 0 within SHUTDOWN_TIMEOUT_MS, even when a client never
 * finishes its request.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { GraphQLClient } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { RawGraphQLSocket } from '../helpers/websocket.ts';

const CREATE =
  'mutation { createEndpoint(input: { name: "signs", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }';
const BATCH = `mutation Drained($images: [ImageInput!]!) {
  predictBatch(endpoint: "signs", images: $images) { __typename ... on PredictBatch { predictions { ... on Prediction { captureId } } } }
}`;
const SUBSCRIBE = 'subscription { predictions(endpoint: "signs") { captureId } }';

interface BatchAnswer {
  data?: { predictBatch: { predictions?: { captureId: string }[] } };
}

/**
 * A JSON POST on a connection of its own (node:http without an agent): every request of a burst reaches
 * the server at once, which fetch's pool does not promise.
 */
function postJson(url: string, body: unknown): Promise<{ status: number; body: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (response) => {
        let received = '';
        response.on('data', (chunk: Buffer) => (received += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: received }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

/** resolves with the exit code, and how long after `since` the process exited */
function exited(server: ServerProcess, since: () => number): Promise<{ code: number | null; afterMs: number }> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) resolve({ code: server.child.exitCode, afterMs: 0 });
    server.child.once('exit', (code) => resolve({ code, afterMs: Date.now() - since() }));
  });
}

/** what a new TCP connection to the port gets: 'connected' or the error's code */
function connectTo(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function waitForOutput(server: ServerProcess, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in the output:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** an SSE subscription read to its end: the text received and whether the stream ended */
function sseStream(url: string, query: string): { text: () => string; ended: Promise<void> } {
  let text = '';
  const reading = (async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query }),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  })();
  // a test that fails before the stream ends kills the server: that rejection is not this test's failure
  reading.catch(() => {});
  return { text: () => text, ended: reading };
}

describe('graceful shutdown (SIGTERM)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('answers and commits the requests in flight, refuses new connections, closes subscriptions, exits 0 in time', async () => {
    const server = await spawnServer({
      DATABASE_URL: database.url,
      SHUTDOWN_TIMEOUT_MS: '10000',
      MAX_QUEUED_IMAGES: '4096',
    });
    let sentAt = 0;
    const exit = exited(server, () => sentAt);
    try {
      const client = new GraphQLClient(`${server.url}/graphql`);
      expect((await client.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');

      const socket = new RawGraphQLSocket(`ws://127.0.0.1:${server.port}/graphql`);
      await socket.init();
      socket.subscribe('live', SUBSCRIBE);
      const sse = sseStream(`${server.url}/graphql`, SUBSCRIBE);

      // 12 requests of 8 images each (1–4 s of work on two cores), all in flight at once
      const images = Array.from({ length: 8 }, (_, i) => ({
        base64: (i % 2 ? fixture('stop_like_octagon.png') : fixture('warning_triangle.png')).toString('base64'),
      }));
      const burst = Array.from({ length: 12 }, async () => {
        try {
          const answer = await postJson(`${server.url}/graphql`, { query: BATCH, variables: { images } });
          return { status: answer.status, body: JSON.parse(answer.body) as BatchAnswer, afterSignal: sentAt > 0 };
        } catch (error) {
          // a connection the server had not accepted when it stopped listening: refused, never started
          return { status: 0, error: (error as NodeJS.ErrnoException).code };
        }
      });
      // the signal comes while the burst is being served: three runs' predictions reached the subscriber
      const deadline = Date.now() + 30_000;
      while (socket.messages.filter((m) => m.type === 'next').length < 24) {
        if (Date.now() > deadline) throw new Error(`no predictions published:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      sentAt = Date.now();
      server.child.kill('SIGTERM');
      await waitForOutput(server, /SIGTERM: closing/);
      // the server writes that line only after its listening socket has closed (main.ts)
      expect(await connectTo(server.port)).toBe('ECONNREFUSED');

      const answers = await Promise.all(burst);
      const closed = await socket.waitForClose(15_000);
      await sse.ended;
      const { code, afterMs } = await exit;
      // Every request the server had started (the SSE stream is one of them) was answered and committed.
      // The others' connections had not been accepted when it stopped listening (under load, with
      // onnxruntime on the event loop's thread, that can take several runs): refused, never started.
      const started = Number(/SIGTERM: closing .*"requestsInFlight":(\d+)/.exec(server.output())![1]) - 1;
      const answered = answers.filter((a) => a.status === 200);
      expect(started).toBeGreaterThanOrEqual(1);
      expect(answered.filter((a) => a.afterSignal).length).toBeGreaterThanOrEqual(started);
      for (const a of answers) if (a.status !== 200) expect(a.error).toMatch(/^(ECONNRESET|ECONNREFUSED|EPIPE)$/);
      const captureIds = answered.flatMap((a) => a.body!.data!.predictBatch.predictions!.map((p) => p.captureId));
      expect(captureIds).toHaveLength(answered.length * 8);
      expect(closed).toEqual({ code: 1001, reason: 'Going away' });
      expect(sse.text()).toMatch(/event: complete/);
      expect(code).toBe(0);
      expect(afterMs).toBeLessThan(10_000);

      const db = openDatabase(database.url);
      try {
        expect(await db.prisma.capture.count({ where: { id: { in: captureIds } } })).toBe(captureIds.length);
      } finally {
        await db.close();
      }
    } finally {
      await server.kill('SIGKILL');
    }
  }, 90_000);

  it('exits within SHUTDOWN_TIMEOUT_MS when a client never finishes sending its request', async () => {
    const server = await spawnServer({ DATABASE_URL: database.url, SHUTDOWN_TIMEOUT_MS: '2500' });
    let sentAt = 0;
    const exit = exited(server, () => sentAt);
    const stalled = net.connect({ host: '127.0.0.1', port: server.port });
    stalled.on('error', () => {});
    try {
      await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
      stalled.write(
        'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
      );
      await new Promise((r) => setTimeout(r, 200));
      sentAt = Date.now();
      server.child.kill('SIGTERM');
      const { code, afterMs } = await exit;
      expect(code).toBe(0);
      expect(afterMs).toBeLessThan(2500 + 500);
      expect(server.output()).toMatch(/cutting off connections still open at the deadline/);
    } finally {
      stalled.destroy();
      await server.kill('SIGKILL');
    }
  }, 60_000);
});
