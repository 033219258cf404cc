/**
 * The soak's subscribers. On each replica incarnation: healthy ones that read everything — alerts over
 * graphql-ws and over SSE, predictions over graphql-ws — and stalled ones that never read (a graphql-ws
 * connection with several prediction subscriptions, an SSE prediction stream), which the server must drop
 * at its bound without hurting the others. A healthy subscriber's session lasts from when it was
 * subscribed to when it was closed, or its replica was killed; the reconciliation says which events each
 * session must have received. The stalled ones listen to a busy topic (flood.ts).
 */
import { graphql } from '../../src/graphql.ts';
import { SUBSCRIBER_TOO_SLOW_CLOSE_CODE } from '../../src/server/subscriber-transports.ts';
import { SseSubscription, WsSubscription } from '../helpers/graphql.ts';
import { StalledEventStream, StalledWebSocket } from '../helpers/stalled-subscribers.ts';
import { sleep } from '../helpers/wait.ts';
import type { Incarnation } from './cluster.ts';
import { BUSY_ENDPOINT } from './flood.ts';

const ALERTS = graphql(`
  subscription SoakAlerts { monitorAlerts(endpoint: "soak") { executionId schedule status } }
`);
const PREDICTIONS = graphql(`subscription SoakPredictions { predictions(endpoint: "soak") { captureId } }`);
/** the busy topic (flood.ts), every field */
const STALLED_QUERY = `subscription SoakStalled { predictions(endpoint: "${BUSY_ENDPOINT}") { endpoint predictedClass label confidence captureId modelVersion at latencyMs } }`;
/** subscriptions on the stalled graphql-ws connection: each event is written that many times */
const STALLED_OPERATIONS = 4;
/** stalled subscriptions per incarnation: the graphql-ws connection's and the SSE stream */
export const STALLED_SUBSCRIPTIONS = STALLED_OPERATIONS + 1;

export type Topic = 'alerts' | 'predictions';

/** a healthy subscriber on one incarnation, from subscribed (`from`) to closed (`to`) */
export interface Session {
  instanceId: string;
  transport: 'ws' | 'sse';
  topic: Topic;
  from: number;
  to?: number;
  /** execution ids (alerts) or capture ids (predictions), in arrival order */
  received: () => string[];
  errors: () => number;
  close(): Promise<void>;
}

export interface StalledSubscriber {
  instanceId: string;
  transport: 'ws' | 'sse';
  /** whether the server ended it (graphql-ws close 1013 and the reason, or SSE's SUBSCRIBER_TOO_SLOW event) */
  outcome(): { dropped: boolean; detail: string };
  /**
   * the replica's count of dropped subscribers (of its own start) at which this one is surely dropped:
   * the graphql-ws connection's subscriptions fill together, the SSE stream is the last
   */
  droppedAt: number;
  /** reads again: what was on its way, then the reason */
  resume(): void;
  close(): void;
}

/** the healthy sessions on one incarnation, subscribed by the time this resolves */
export async function subscribeHealthy(incarnation: Incarnation): Promise<Session[]> {
  const { url, port } = incarnation.server;
  const wsUrl = `ws://127.0.0.1:${port}/graphql`;
  const alertsWs = new WsSubscription(wsUrl, ALERTS);
  const alertsSse = new SseSubscription(`${url}/graphql`, ALERTS);
  const predictionsWs = new WsSubscription(wsUrl, PREDICTIONS);
  // the server subscribes to the topic (and to its Redis channel) after the handshake: a second covers
  // that on a loaded machine
  await Promise.all([alertsWs.ready(1000), alertsSse.ready(1000), predictionsWs.ready(1000)]);
  const from = Date.now();
  const session = (
    transport: Session['transport'],
    topic: Topic,
    received: () => string[],
    errors: () => number,
    close: () => Promise<void>,
  ): Session => ({ instanceId: incarnation.instanceId, transport, topic, from, received, errors, close });
  return [
    session(
      'ws',
      'alerts',
      () => alertsWs.events.map((e) => e.monitorAlerts.executionId),
      () => alertsWs.errors.length,
      () => alertsWs.close(),
    ),
    session(
      'sse',
      'alerts',
      () => alertsSse.events.map((e) => e.monitorAlerts.executionId),
      () => 0,
      async () => alertsSse.close(),
    ),
    session(
      'ws',
      'predictions',
      () => predictionsWs.events.flatMap((e) => (e.predictions.captureId ? [e.predictions.captureId] : [])),
      () => predictionsWs.errors.length,
      () => predictionsWs.close(),
    ),
  ];
}

/** one stalled graphql-ws connection and one stalled SSE stream on the incarnation, paused once subscribed */
export async function subscribeStalled(incarnation: Incarnation): Promise<StalledSubscriber[]> {
  const { port } = incarnation.server;
  const ws = await StalledWebSocket.open(`ws://127.0.0.1:${port}/graphql`, STALLED_QUERY, STALLED_OPERATIONS);
  const sse = await StalledEventStream.open(port, STALLED_QUERY);
  ws.socket.pause();
  sse.socket.pause();
  const { instanceId } = incarnation;
  return [
    {
      instanceId,
      transport: 'ws',
      droppedAt: STALLED_OPERATIONS,
      // 1013 with the reason, or 1006 when the server cut the socket because the client never read the reason
      outcome: () => ({
        dropped: ws.closed !== undefined,
        detail: ws.closed
          ? `closed ${ws.closed.code}${ws.closed.code === SUBSCRIBER_TOO_SLOW_CLOSE_CODE ? ` ${ws.closed.reason}` : ' (cut by the server)'}`
          : 'open',
      }),
      resume: () => ws.socket.resume(),
      close: () => ws.destroy(),
    },
    {
      instanceId,
      transport: 'sse',
      droppedAt: STALLED_SUBSCRIPTIONS,
      outcome: () => {
        // the SUBSCRIBER_TOO_SLOW event, or the end of a socket the server cut because the client never read it
        const reason = /"code":"(SUBSCRIBER_TOO_SLOW)"/.exec(sse.received)?.[1];
        return {
          dropped: reason !== undefined || sse.finished,
          detail: reason ? `ended with ${reason}` : sse.finished ? 'ended (cut by the server)' : 'open',
        };
      },
      resume: () => sse.socket.resume(),
      close: () => sse.socket.destroy(),
    },
  ];
}

/** lets the stalled clients read again, for up to `ms` or until each has its reason */
export async function drainStalled(stalled: StalledSubscriber[], ms: number): Promise<void> {
  for (const s of stalled) s.resume();
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && stalled.some((s) => !s.outcome().dropped)) await sleep(50);
}
