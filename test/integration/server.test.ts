import { describe, expect, it } from 'vitest';
import { useTestServer } from '../helpers/server.ts';

describe('HTTP server', () => {
  const server = useTestServer({ env: { MAX_BODY_BYTES: String(1024 * 1024), MAX_QUERY_DEPTH: '2' } });

  it('answers { __typename } and reports itself in serverInfo', async () => {
    const data = await server.client.data(`{ __typename serverInfo { databaseProvider eventBus models } }`);
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
    const big = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await server.client.data(`{ __typename }`)).__typename).toBe('Query');
  });

  it('refuses queries deeper than MAX_QUERY_DEPTH', async () => {
    expect((await server.client.request(`{ endpoints { name } }`)).errors).toBeUndefined();
    const result = await server.client.request(`{ endpoints { debugHook { enabled } } }`);
    expect(result.data).toBeUndefined();
    expect(JSON.stringify(result.errors)).toMatch(/depth/i);
  });

  it('returns 404 for unknown routes', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });
});
