/**
 * What pages on other sites can do: CORS only for CORS_ORIGINS, no operation from a form post (CSRF),
 * the WebSocket's Origin checked, GraphiQL and introspection off in production.
 */
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';
import { upgrade } from '../helpers/websocket.ts';

const CREATE = 'mutation { createEndpoint(input: { name: "forged" }) { __typename } }';
const EVIL = 'https://evil.example';
const DASHBOARD = 'https://dash.example.com';

describe('cross-origin requests, default settings (no CORS_ORIGINS, development)', () => {
  const server = useTestServer();

  const endpointNames = async () =>
    ((await server.client.data('{ endpoints { name } }')).endpoints as { name: string }[]).map((e) => e.name);

  it('sends no CORS headers, to a simple request or a preflight', async () => {
    const simple = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: EVIL },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(simple.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(server.graphqlUrl, {
      method: 'OPTIONS',
      headers: {
        origin: EVIL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('executes no operation sent as a form (url-encoded, text/plain, application/graphql): 415, nothing written', async () => {
    const forms: [string, string][] = [
      ['application/x-www-form-urlencoded', new URLSearchParams({ query: CREATE }).toString()],
      ['text/plain', JSON.stringify({ query: CREATE })],
      ['text/plain;charset=UTF-8', JSON.stringify({ query: CREATE })],
      ['application/graphql', CREATE],
    ];
    for (const [type, body] of forms) {
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': type, origin: EVIL },
        body,
      });
      expect(response.status, type).toBe(415);
      const answer = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(answer.errors[0]!.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await endpointNames()).toEqual([]);
  });

  it('executes a multipart request only with the graphql-require-preflight header', async () => {
    const form = () => {
      const body = new FormData();
      body.set('operations', JSON.stringify({ query: CREATE }));
      body.set('map', '{}');
      return body;
    };
    const refused = await fetch(server.graphqlUrl, { method: 'POST', body: form(), headers: { origin: EVIL } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      'PREFLIGHT_REQUIRED',
    );
    expect(await endpointNames()).toEqual([]);

    const accepted = await fetch(server.graphqlUrl, {
      method: 'POST',
      body: form(),
      headers: { 'graphql-require-preflight': '1' },
    });
    expect(((await accepted.json()) as { data: unknown }).data).toEqual({ createEndpoint: { __typename: 'Endpoint' } });
    expect(await endpointNames()).toEqual(['forged']);
    await server.client.data('mutation { deleteEndpoint(name: "forged") { __typename } }');
  });

  it('refuses a WebSocket from another site, and accepts one without Origin or from its own origin', async () => {
    const refused = await upgrade(server.wsUrl, { origin: EVIL });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'FORBIDDEN_ORIGIN' });
    expect((await upgrade(server.wsUrl)).status).toBe(101);
    expect((await upgrade(server.wsUrl, { origin: server.url })).status).toBe(101);
    expect((await upgrade(server.wsUrl.replace('/graphql', '/other'))).status).toBe(404);
  });

  it('keeps introspection and GraphiQL in development', async () => {
    const result = await server.client.request('{ __schema { queryType { name } } }');
    expect(result.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const page = await fetch(server.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('GraphiQL');
  });

  it('still takes a predict upload with the header (multipart is how files come)', async () => {
    await server.client.data('mutation { createEndpoint(input: { name: "uploads" }) { __typename } }');
    const body = new FormData();
    body.set(
      'operations',
      JSON.stringify({
        query: 'mutation($f: File!) { predict(endpoint: "uploads", image: { file: $f }) { __typename } }',
        variables: { f: null },
      }),
    );
    body.set('map', JSON.stringify({ 0: ['variables.f'] }));
    body.set('0', new Blob([new Uint8Array(fixture('speed_ring.ppm'))]), 'speed_ring.ppm');
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      body,
      headers: { 'graphql-require-preflight': '1' },
    });
    expect(await response.json()).toEqual({ data: { predict: { __typename: 'Prediction' } } });
  });
});

describe('cross-origin requests in production with CORS_ORIGINS', () => {
  const server = useTestServer({
    env: { NODE_ENV: 'production', CORS_ORIGINS: `${DASHBOARD}, http://localhost:5173` },
  });

  it('answers a listed origin exactly, with credentials, and others not at all', async () => {
    const preflight = await fetch(server.graphqlUrl, {
      method: 'OPTIONS',
      headers: {
        origin: DASHBOARD,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const listed = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:5173' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(listed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    for (const origin of [EVIL, `${DASHBOARD}.evil.example`, 'null']) {
      const other = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(other.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('lets listed origins open the WebSocket, no other', async () => {
    expect((await upgrade(server.wsUrl, { origin: DASHBOARD })).status).toBe(101);
    expect((await upgrade(server.wsUrl, { origin: EVIL })).status).toBe(403);
  });

  it('turns introspection and GraphiQL off, and keeps __typename', async () => {
    const result = await server.client.request('{ __schema { queryType { name } } }');
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/introspection/i);
    const byType = await server.client.request('{ __type(name: "Query") { name } }');
    expect(byType.data).toBeUndefined();
    expect((await server.client.data('{ __typename }')).__typename).toBe('Query');
    const page = await fetch(server.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('GraphiQL');
  });
});
