import { describe, expect, it } from 'vitest';
import { SseSubscription, WsSubscription } from '../helpers/graphql.ts';
import { useTestServer } from '../helpers/server.ts';

const SUBSCRIPTION = `subscription { endpointChanged { kind name endpoint { name dataCapture { samplingPercentage } } } }`;

describe('subscriptions', () => {
  const server = useTestServer();

  it('delivers registry changes over graphql-ws and over SSE', async () => {
    const ws = new WsSubscription(server.wsUrl, SUBSCRIPTION);
    const sse = new SseSubscription(server.graphqlUrl, SUBSCRIPTION);
    await Promise.all([ws.ready(), sse.ready()]);

    await server.client.data(`mutation { createEndpoint(input: { name: "live" }) { __typename } }`);
    await server.client.data(
      `mutation { updateEndpoint(name: "live", input: { dataCapture: { samplingPercentage: 25 } }) { __typename } }`,
    );
    await server.client.data(`mutation { deleteEndpoint(name: "live") { __typename } }`);

    for (const sub of [ws, sse]) {
      const events = await sub.waitFor(3);
      expect(events.map((e) => e.endpointChanged.kind)).toEqual(['CREATED', 'UPDATED', 'DELETED']);
      expect(events.every((e) => e.endpointChanged.name === 'live')).toBe(true);
      expect(events[2]!.endpointChanged.endpoint).toBeNull();
    }
    await ws.close();
    sse.close();
  });

  it('rejects an invalid subscription document over graphql-ws', async () => {
    const ws = new WsSubscription(server.wsUrl, `subscription { noSuchField }`);
    await ws.ready();
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.stringify(ws.errors)).toContain('noSuchField');
    await ws.close();
  });
});
