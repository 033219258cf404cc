/**
 * A streamed plain-route body through the real server (Yoga's Node listener): read at the client's
 * pace, and its source closed when the client goes away.
 */
import net from 'node:net';
import { createSchema } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineStream } from '../../src/capture/http.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createServer, type VigilServer } from '../../src/server/app.ts';
import { localGate } from '../helpers/gate.ts';

const LINE = 'x'.repeat(64 * 1024);

describe('a streamed response', () => {
  const state = { produced: 0, closed: false };
  let server: VigilServer;
  let port: number;

  beforeAll(async () => {
    async function* lines(): AsyncGenerator<string, void, undefined> {
      try {
        for (;;) {
          state.produced++;
          yield LINE;
        }
      } finally {
        state.closed = true;
      }
    }
    server = createServer({
      schema: createSchema({ typeDefs: 'type Query { ok: Boolean }' }),
      context: () => {
        throw new Error('no GraphQL in this test');
      },
      gate: localGate(),
      routes: [{ method: 'GET', path: '/lines', role: 'read', handle: () => new Response(lineStream(lines())) }],
      readiness: [],
      logger: createLogger('error', 'test'),
      ...loadConfig({ NODE_ENV: 'production', MAX_BODY_BYTES: '1024', MAX_QUERY_DEPTH: '5', MAX_QUERY_COST: '1000' }),
    });
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(() => server.close());

  it('produces only what a client that stopped reading can hold, and closes the source when it leaves', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.pause(); // never reads: the kernel's buffers and the server's high-water marks fill, then writes wait
    socket.write('GET /lines HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const produced = state.produced;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // unbounded, 64 KiB lines would run to thousands in 800 ms; buffers hold a few MiB
    expect(state.produced).toBeGreaterThan(0);
    expect(state.produced).toBeLessThan(500);
    expect(state.produced - produced).toBeLessThanOrEqual(1);
    expect(state.closed).toBe(false);
    socket.destroy();
    await expect.poll(() => state.closed, { timeout: 2000 }).toBe(true);
  });
});
