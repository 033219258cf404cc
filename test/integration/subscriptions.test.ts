import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { SseSubscription, WsSubscription } from '../helpers/graphql.ts';
import { useTestServer } from '../helpers/server.ts';

const SUBSCRIPTION = graphql(`
  subscription RegistryChanges { endpointChanged { kind name endpoint { name dataCapture { samplingPercentage } } } }
`);
const CREATE = graphql(`mutation CreateLive { createEndpoint(input: { name: "live" }) { __typename } }`);
const UPDATE = graphql(`
  mutation SampleLiveQuarter {
    updateEndpoint(name: "live", input: { dataCapture: { samplingPercentage: 25 } }) { __typename }
  }
`);
const DELETE = graphql(`mutation DeleteLive { deleteEndpoint(name: "live") { __typename } }`);

describe('subscriptions', () => {
  const server = useTestServer();

  it('delivers registry changes over graphql-ws and over SSE', async () => {
    const ws = new WsSubscription(server.wsUrl, SUBSCRIPTION);
    const sse = new SseSubscription(server.graphqlUrl, SUBSCRIPTION);
    await Promise.all([ws.ready(), sse.ready()]);

    expect((await server.client.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');
    expect((await server.client.data(UPDATE)).updateEndpoint.__typename).toBe('Endpoint');
    expect((await server.client.data(DELETE)).deleteEndpoint.__typename).toBe('Endpoint');

    for (const sub of [ws, sse]) {
      const events = await sub.waitFor(3);
      expect(events.map((e) => e.endpointChanged.kind)).toEqual(['CREATED', 'UPDATED', 'DELETED']);
      expect(events.every((e) => e.endpointChanged.name === 'live')).toBe(true);
      expect(events[1]!.endpointChanged.endpoint?.dataCapture.samplingPercentage).toBe(25);
      expect(events[2]!.endpointChanged.endpoint).toBeNull();
    }
    await ws.close();
    sse.close();
  });

  it('rejects an invalid subscription document over graphql-ws', async () => {
    // a plain string: the document is invalid on purpose, so no typed document can hold it
    const ws = new WsSubscription(server.wsUrl, 'subscription { noSuchField }');
    await ws.ready();
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.stringify(ws.errors)).toContain('noSuchField');
    await ws.close();
  });
});
