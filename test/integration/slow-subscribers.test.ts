/**
 * Subscribers that stop reading: a graphql-ws client and an SSE client whose sockets are paused, beside
 * a healthy client of each kind, while events are published faster than a paused socket drains. The
 * stalled ones are dropped once SUBSCRIBER_BUFFER_EVENTS are waiting for them (WebSocket closed with
 * 1013 and the reason, SSE ended with a SUBSCRIBER_TOO_SLOW error event), the server's queues stay within
 * the bound, the healthy ones get every event, and the server keeps serving.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import type { PredictionEvent } from '../../src/inference/types.ts';
import { SUBSCRIBER_TOO_SLOW_CLOSE_CODE } from '../../src/server/subscriber-transports.ts';
import { SseSubscription, WsSubscription } from '../helpers/graphql.ts';
import { useTestServer } from '../helpers/server.ts';
import { StalledEventStream, StalledWebSocket } from '../helpers/stalled-subscribers.ts';

const BUFFER_EVENTS = 32;
const ENDPOINT = 'busy';
const PREDICTIONS_QUERY = `subscription { predictions(endpoint: "${ENDPOINT}") { predictedClass label } }`;
const PREDICTIONS = graphql(`
  subscription BusyPredictions { predictions(endpoint: "busy") { predictedClass label } }
`);
const CREATE = graphql(`mutation CreateBusy { createEndpoint(input: { name: "busy" }) { __typename } }`);
const SERVER_INFO = graphql(`query StillServing { serverInfo { version } }`);
/** large enough that a paused socket's kernel buffers (a few MiB) fill within a few hundred events */
const LABEL = 'x'.repeat(32 * 1024);

describe('slow subscribers', () => {
  const server = useTestServer({ env: { SUBSCRIBER_BUFFER_EVENTS: String(BUFFER_EVENTS) } });
  const cleanup: (() => void)[] = [];
  afterAll(() => {
    for (const step of cleanup) step();
  });

  it('are disconnected with the reason at the bound, while the others get every event', async () => {
    expect((await server.client.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');
    const metrics = server.app.bus.metrics;
    const port = Number(new URL(server.url).port);
    const before = { subscribers: metrics.subscribers, dropped: metrics.droppedSubscribers };

    const healthyWs = new WsSubscription(server.wsUrl, PREDICTIONS);
    const healthySse = new SseSubscription(server.graphqlUrl, PREDICTIONS);
    cleanup.push(
      () => void healthyWs.close(),
      () => healthySse.close(),
    );
    await Promise.all([healthyWs.ready(), healthySse.ready()]);
    const stalledWs = await StalledWebSocket.open(server.wsUrl, PREDICTIONS_QUERY);
    const stalledSse = await StalledEventStream.open(port, PREDICTIONS_QUERY);
    cleanup.push(
      () => stalledWs.destroy(),
      () => stalledSse.socket.destroy(),
    );
    await expect.poll(() => metrics.subscribers - before.subscribers).toBe(4);
    stalledWs.socket.pause();
    stalledSse.socket.pause();

    // batches smaller than the bound, each waited for by the healthy subscribers: they keep up, the
    // stalled ones fall behind
    let published = 0;
    let maxBufferedEvents = 0;
    let maxBufferedBytes = 0;
    while (metrics.droppedSubscribers - before.dropped < 2 && published < 3000) {
      for (let i = 0; i < 8; i++) {
        const event: PredictionEvent = {
          endpoint: ENDPOINT,
          predictedClass: published++,
          label: LABEL,
          confidence: 0.5,
          captureId: null,
          modelVersion: 'test',
          at: new Date().toISOString(),
          latencyMs: 1,
          outlierScore: null,
        };
        server.app.services.pubsub.publish('prediction', ENDPOINT, event);
      }
      maxBufferedEvents = Math.max(maxBufferedEvents, metrics.bufferedEvents);
      maxBufferedBytes = Math.max(maxBufferedBytes, metrics.bufferedBytes);
      await healthyWs.waitFor(published, 10_000);
      await healthySse.waitFor(published, 10_000);
    }

    expect(metrics.droppedSubscribers - before.dropped).toBe(2);
    expect(metrics.subscribers - before.subscribers).toBe(2);
    // nothing waits for the dropped ones; at most the bound ever waited for each of the four
    expect(maxBufferedEvents).toBeLessThanOrEqual(4 * BUFFER_EVENTS);
    expect(maxBufferedBytes).toBeLessThanOrEqual(4 * (BUFFER_EVENTS + 1) * (LABEL.length + 200));
    expect(metrics.bufferedEvents).toBeLessThanOrEqual(2 * 8);

    // the healthy subscribers got every event, in order
    for (const events of [healthyWs.events, healthySse.events]) {
      expect(events).toHaveLength(published);
      expect(events.map((e) => e.predictions.predictedClass)).toEqual(Array.from({ length: published }, (_, i) => i));
    }

    // the stalled clients read again: what was on its way, then the reason
    stalledWs.socket.resume();
    stalledSse.socket.resume();
    const closed = await stalledWs.waitForClose(10_000);
    expect(closed.code).toBe(SUBSCRIBER_TOO_SLOW_CLOSE_CODE);
    expect(closed.reason).toMatch(/^subscriber too slow: over 32 events/);
    // the response ends (its last chunk), or its socket is cut
    await expect.poll(() => stalledSse.finished, { timeout: 10_000 }).toBe(true);
    expect(stalledSse.received).toMatch(
      /event: next\r?\ndata: \{"errors":\[\{"message":"subscriber too slow[^\n]*"SUBSCRIBER_TOO_SLOW"/,
    );

    // and the server still serves
    expect((await server.client.data(SERVER_INFO)).serverInfo.version).toMatch(/\d/);
  });
});
