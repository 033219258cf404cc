import net from 'node:net';
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { useTestServer } from '../helpers/server.ts';

/**
 * Writes raw bytes to the server and collects what comes back until the server closes the connection
 * (or `waitMs` passes: then `closed` is false).
 */
function rawExchange(
  url: string,
  chunks: readonly string[],
  waitMs = 5000,
): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    socket.on('data', (data) => (text += data.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

const TYPENAME = graphql(`query Typename { __typename }`);
const SERVER_INFO = graphql(`query ServerReport { __typename serverInfo { databaseProvider eventBus models } }`);
/** two levels deep */
const ENDPOINT_NAMES = graphql(`query EndpointNames { endpoints { name } }`);
/** three levels deep */
const ENDPOINT_HOOKS = graphql(`query EndpointHooks { endpoints { debugHook { enabled } } }`);

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

describe('HTTP server', () => {
  const server = useTestServer({ env: { MAX_BODY_BYTES: String(1024 * 1024), MAX_QUERY_DEPTH: '2' } });

  it('answers { __typename } and reports itself in serverInfo', async () => {
    const data = await server.client.data(SERVER_INFO);
    expect(data.__typename).toBe('Query');
    expect(data.serverInfo.databaseProvider).toBe(server.database.kind === 'postgres' ? 'postgresql' : 'sqlite');
    expect(data.serverInfo.eventBus).toBe('memory');
    expect(data.serverInfo.models).toContain('gtsrb-resnet18');
  });

  it('serves /healthz and /readyz with each readiness check', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    const body = (await ready.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(ready.status).toBe(200);
    expect(body.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['database', 'migrations', 'models']));
    expect(body.checks.every((c) => c.ok)).toBe(true);
  });

  it('refuses a body over MAX_BODY_BYTES with a typed 413 and keeps serving', async () => {
    const big = JSON.stringify({ query: print(TYPENAME), variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await server.client.data(TYPENAME)).__typename).toBe('Query');
  });

  it('refuses a declared Content-Length over the limit before reading the body', async () => {
    // Only the start of the body is sent: a server that read or parsed it would wait for the rest.
    const { text, closed } = await rawExchange(server.url, [
      'POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 2097152\r\n\r\n',
      '{"query":"{ __typename }","variables":{"pad":"',
    ]);
    expect(statusOf(text)).toBe(413);
    expect(JSON.parse(bodyOf(text)).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(closed).toBe(true);
  });

  it('counts a streamed (chunked) body and refuses it at the limit, before it ends', async () => {
    const start = '{"query":"{ __typename }","variables":{"pad":"';
    const chunk = `${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`;
    // 17 chunks of 64 KiB: over the 1 MiB limit, and never the final zero-length chunk
    const { text, closed } = await rawExchange(server.url, [
      'POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      `${start.length.toString(16)}\r\n${start}\r\n`,
      ...Array.from({ length: 17 }, () => chunk),
    ]);
    expect(statusOf(text)).toBe(413);
    expect(bodyOf(text)).toContain('PAYLOAD_TOO_LARGE');
    expect(closed).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers a malformed request target or Host header 400 and keeps serving', async () => {
    const requests = [
      'GET /healthz HTTP/1.1\r\nHost: [bad\r\n\r\n',
      'GET /graphql?query={__typename} HTTP/1.1\r\nHost: exa:mple:80\r\n\r\n',
      'GET /\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n',
      'NOT A REQUEST\r\n\r\n',
    ];
    for (const request of requests) {
      const { text, closed } = await rawExchange(server.url, [request]);
      expect(statusOf(text), JSON.stringify(request)).toBe(400);
      expect(closed).toBe(true);
    }
    const { text } = await rawExchange(server.url, [requests[0]!]);
    expect(JSON.parse(bodyOf(text))).toMatchObject({ code: 'VALIDATION', field: 'url' });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await server.client.data(TYPENAME)).__typename).toBe('Query');
  });

  it('refuses queries deeper than MAX_QUERY_DEPTH', async () => {
    expect((await server.client.request(ENDPOINT_NAMES)).errors).toBeUndefined();
    const result = await server.client.request(ENDPOINT_HOOKS);
    expect(result.data).toBeUndefined();
    expect(JSON.stringify(result.errors)).toMatch(/depth/i);
  });

  it('returns 404 for unknown routes, 400 for a malformed escape in a path', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const unknown = await fetch(`${server.url}/baselines/nope/statistics.json`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND', resource: 'Baseline', key: 'nope' });
    const malformed = await fetch(`${server.url}/baselines/%E0%A4%A/statistics.json`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'VALIDATION', field: 'id' });
  });
});
