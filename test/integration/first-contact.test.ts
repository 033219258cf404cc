/**
 * What a new user meets first, as they would meet it: mistakes answered with errors that name the
 * argument and say what to do, never a hang, a bare message or an internal object.
 */
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { WsSubscription } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const CREATE = graphql(
  `mutation CreateNamed($name: String!) { createEndpoint(input: { name: $name }) { __typename } }`,
);
const GHOST_PREDICTIONS = graphql(
  `subscription GhostPredictions { predictions(endpoint: "ghost") { predictedClass } }`,
);
const GHOST_ALERTS = graphql(`subscription GhostAlerts { monitorAlerts(endpoint: "ghost") { message } }`);
const CAPTURES_FROM_LITERAL = graphql(`
  query CapturesFromLiteral { captures(endpoint: "dates", filter: { from: "yesterday" }) { __typename } }
`);
const CAPTURES_FROM = graphql(`
  query CapturesFrom($f: DateTime) { captures(endpoint: "dates", filter: { from: $f }) { __typename } }
`);
/** a valid document; the request maps a file to its String variable */
const PREDICT_BASE64 = graphql(`
  mutation PredictUploadsBase64($b: String!) { predict(endpoint: "uploads", image: { base64: $b }) { __typename } }
`);

describe('first contact', () => {
  const server = useTestServer();

  it.each([
    ['predictions(endpoint: "ghost")', GHOST_PREDICTIONS],
    ['monitorAlerts(endpoint: "ghost")', GHOST_ALERTS],
  ])('answers a subscription to %s with NOT_FOUND at once instead of waiting forever', async (_name, document) => {
    // only the errors are read: the two documents' event types need not agree
    const ws = new WsSubscription<unknown, object>(server.wsUrl, document);
    await ws.ready(0);
    const deadline = Date.now() + 3000;
    while (ws.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.stringify(ws.errors)).toContain("Endpoint 'ghost' does not exist");
    expect(JSON.stringify(ws.errors)).toContain('NOT_FOUND');
    await ws.close();
  });

  it('names the argument and the expected form for a bad DateTime, as a literal and as a variable', async () => {
    expect((await server.client.data(CREATE, { name: 'dates' })).createEndpoint.__typename).toBe('Endpoint');
    const literal = await server.client.request(CAPTURES_FROM_LITERAL);
    expect(literal.errors?.[0]?.message).toBe(
      'Expected value of type "DateTime", found "yesterday"; a DateTime is an ISO-8601 string, e.g. "2026-12-01T14:00:00Z"',
    );
    const variable = await server.client.request(CAPTURES_FROM, { f: 'yesterday' });
    expect(variable.errors?.[0]?.message).toBe(
      'Variable "$f" got invalid value "yesterday"; Expected type "DateTime". a DateTime is an ISO-8601 string, e.g. "2026-12-01T14:00:00Z"',
    );
    expect(variable.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('explains a multipart file mapped to a String variable instead of printing the upload object', async () => {
    expect((await server.client.data(CREATE, { name: 'uploads' })).createEndpoint.__typename).toBe('Endpoint');
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({
        query: print(PREDICT_BASE64),
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
