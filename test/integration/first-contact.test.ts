/**
 * What a new user meets first, as they would meet it: mistakes answered with errors that name the
 * argument and say what to do, never a hang, a bare message or an internal object.
 */
import { describe, expect, it } from 'vitest';
import { WsSubscription } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

describe('first contact', () => {
  const server = useTestServer();

  it.each([
    ['predictions(endpoint: "ghost")', 'subscription { predictions(endpoint: "ghost") { predictedClass } }'],
    ['monitorAlerts(endpoint: "ghost")', 'subscription { monitorAlerts(endpoint: "ghost") { message } }'],
  ])('answers a subscription to %s with NOT_FOUND at once instead of waiting forever', async (_name, query) => {
    const ws = new WsSubscription(server.wsUrl, query);
    await ws.ready(0);
    const deadline = Date.now() + 3000;
    while (ws.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.stringify(ws.errors)).toContain("Endpoint 'ghost' does not exist");
    expect(JSON.stringify(ws.errors)).toContain('NOT_FOUND');
    await ws.close();
  });

  it('names the argument and the expected form for a bad DateTime, as a literal and as a variable', async () => {
    await server.client.data(`mutation { createEndpoint(input: { name: "dates" }) { __typename } }`);
    const literal = await server.client.request(
      `{ captures(endpoint: "dates", filter: { from: "yesterday" }) { __typename } }`,
    );
    expect(literal.errors?.[0]?.message).toBe(
      'Expected value of type "DateTime", found "yesterday"; a DateTime is an ISO-8601 string, e.g. "2026-12-01T14:00:00Z"',
    );
    const variable = await server.client.request(
      `query($f: DateTime) { captures(endpoint: "dates", filter: { from: $f }) { __typename } }`,
      {
        f: 'yesterday',
      },
    );
    expect(variable.errors?.[0]?.message).toBe(
      'Variable "$f" got invalid value "yesterday"; Expected type "DateTime". a DateTime is an ISO-8601 string, e.g. "2026-12-01T14:00:00Z"',
    );
  });

  it('explains a multipart file mapped to a String variable instead of printing the upload object', async () => {
    await server.client.data(`mutation { createEndpoint(input: { name: "uploads" }) { __typename } }`);
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: 'mutation($b: String!) { predict(endpoint: "uploads", image: { base64: $b }) { __typename } }',
        variables: { b: null },
      }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.b'] }));
    form.set('0', new Blob([new Uint8Array(fixture('noise.png'))], { type: 'image/png' }), 'noise.png');
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      body: form,
      headers: { 'graphql-require-preflight': '1' },
    });
    const body = (await response.json()) as { errors?: { message: string }[] };
    expect(body.errors?.[0]?.message).toBe(
      'Variable "$b" got a file upload, but String! does not take files: map uploads to a variable of type File (e.g. ImageInput.file)',
    );
  });
});
