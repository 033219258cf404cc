/**
 * Subscriptions' event bus. An event published on a replica is delivered at once to that replica's own
 * subscribers, then sent over Redis (when REDIS_URL is set) to the other replicas, best effort
 * (redis-fanout.ts); the copy that comes back from Redis is recognised by its origin and dropped. So
 * Redis down at start, lost mid-run or back again changes one thing only: whether events cross
 * replicas. Each subscriber has a bounded queue (subscription.ts): one that falls behind is dropped and
 * disconnected, and publishing never throws and never waits.
 *
 * `metrics` holds counters and gauges for /metrics, updated in place (see EventBusMetrics).
 */

import type { PubSub } from 'graphql-yoga';
import type { Logger } from '../logger.ts';
import { RedisFanout, type RedisState } from './redis-fanout.ts';
import {
  boundedSubscription,
  type Offer,
  type SubscriberLimits,
  type SubscriberTransport,
  type SubscriptionObserver,
} from './subscription.ts';

type EventMapShape = Record<string, [unknown] | [string, unknown]>;

/** in-process: no REDIS_URL; otherwise the state of the connections to Redis */
export type EventBusState = 'in-process' | RedisState;

/** read by /metrics; every field is updated in place as things happen */
export interface EventBusMetrics {
  kind: 'memory' | 'redis';
  state: EventBusState;
  /** when `state` last changed (epoch ms) */
  stateSince: number;
  /** times the connection to Redis was lost (connected → down) */
  redisOutages: number;
  /** events published on this replica */
  published: number;
  /** of those, sent to Redis for the other replicas */
  fannedOut: number;
  /** of those, not sent because Redis was unreachable: they reached this replica's subscribers only */
  fanoutFailed: number;
  /** events received from other replicas through Redis */
  received: number;
  /** events handed to subscribers (one per subscriber per event) */
  delivered: number;
  /** subscribers dropped because their queue was full (SUBSCRIBER_BUFFER_EVENTS / _BYTES) */
  droppedSubscribers: number;
  /** gauge: subscribers now */
  subscribers: number;
  /** gauge: events waiting in subscribers' queues now, and their bytes */
  bufferedEvents: number;
  bufferedBytes: number;
}

/** the bus's line in /readyz */
export interface EventBusHealth {
  ok: boolean;
  degraded: boolean;
  detail: string;
}

export interface EventBus<M extends EventMapShape> {
  pubsub: PubSub<M>;
  kind: 'memory' | 'redis';
  readonly metrics: Readonly<EventBusMetrics>;
  /**
   * The pubsub of the operations of one connection: a subscription opened through it is disconnected
   * through `transport` when it falls behind. It calls `base` (the bus's own pubsub by default) at each
   * call, so a wrapper or a test's replacement of `base`'s methods still applies.
   */
  pubsubFor(transport: SubscriberTransport, base?: PubSub<M>): PubSub<M>;
  /**
   * Without Redis a replica still serves predict, queries and its own subscribers: the bus reports
   * itself degraded, not unready (taking every replica out of a load balancer when Redis fails would
   * turn lost cross-replica events into a full outage).
   */
  health(): EventBusHealth;
  close(): Promise<void>;
}

export interface EventBusOptions {
  redisUrl?: string | undefined;
  logger: Logger;
  subscriberLimits: SubscriberLimits;
  /** how long start waits for Redis before serving without it (default 3000 ms) */
  connectWaitMs?: number;
}

type Listener = Offer<unknown>;

export async function createEventBus<M extends EventMapShape>(options: EventBusOptions): Promise<EventBus<M>> {
  const { logger, subscriberLimits } = options;
  const listeners = new Map<string, Set<Listener>>();
  const metrics: EventBusMetrics = {
    kind: options.redisUrl ? 'redis' : 'memory',
    state: options.redisUrl ? 'connecting' : 'in-process',
    stateSince: Date.now(),
    redisOutages: 0,
    published: 0,
    fannedOut: 0,
    fanoutFailed: 0,
    received: 0,
    delivered: 0,
    droppedSubscribers: 0,
    subscribers: 0,
    bufferedEvents: 0,
    bufferedBytes: 0,
  };
  let fanoutFailedThisOutage = 0;

  const redis = options.redisUrl
    ? new RedisFanout({
        url: options.redisUrl,
        logger,
        onMessage(topic, payload, bytes) {
          metrics.received++;
          deliver(topic, payload, bytes);
        },
        onStateChange(state) {
          const was = metrics.state;
          metrics.state = state;
          metrics.stateSince = Date.now();
          if (state === 'connected') {
            logger.info(
              was === 'connecting' ? 'connected to Redis' : 'Redis is reachable again: events cross replicas again',
              was === 'down' ? { publishedMeanwhile: fanoutFailedThisOutage } : {},
            );
            fanoutFailedThisOutage = 0;
          } else if (state === 'down') {
            if (was === 'connected') metrics.redisOutages++;
            logger.warn(
              was === 'connecting'
                ? 'Redis is unreachable at start: serving without it; events stay on this replica until it answers'
                : 'lost Redis: events stay on this replica until it returns (reconnecting)',
            );
          }
        },
        topics: () => listeners.keys(),
      })
    : undefined;

  /** hands an event to every local subscriber of its topic; a listener never throws, but one bad one must not stop the rest */
  function deliver(topic: string, payload: unknown, bytes: number): void {
    const subscribers = listeners.get(topic);
    if (!subscribers) return;
    for (const offer of subscribers) {
      try {
        offer(payload, bytes);
      } catch (error) {
        logger.error('a subscriber failed to take an event', { topic, error });
      }
    }
  }

  function publishTopic(topic: string, payload: unknown): void {
    metrics.published++;
    const local = listeners.has(topic);
    if (!local && !redis) return;
    const json = JSON.stringify(payload) ?? 'null';
    if (local) deliver(topic, payload, Buffer.byteLength(json));
    if (!redis) return;
    if (redis.publish(topic, json)) metrics.fannedOut++;
    else {
      metrics.fanoutFailed++;
      fanoutFailedThisOutage++;
    }
  }

  const observer = (transport: SubscriberTransport | undefined, topic: string): SubscriptionObserver => ({
    delivered: () => void metrics.delivered++,
    buffered(events, bytes) {
      metrics.bufferedEvents += events;
      metrics.bufferedBytes += bytes;
    },
    overflowed() {
      metrics.droppedSubscribers++;
      logger.warn('dropped a subscriber that fell behind', {
        topic,
        transport: transport?.kind ?? 'in-process',
        limits: subscriberLimits,
      });
    },
  });

  function subscribeTopic(topic: string, transport: SubscriberTransport | undefined) {
    return boundedSubscription<unknown>(
      (offer) => {
        let set = listeners.get(topic);
        if (!set) {
          set = new Set();
          listeners.set(topic, set);
          redis?.subscribe(topic);
        }
        set.add(offer);
        metrics.subscribers++;
        return () => {
          metrics.subscribers--;
          set.delete(offer);
          if (set.size || listeners.get(topic) !== set) return;
          listeners.delete(topic);
          redis?.unsubscribe(topic);
        };
      },
      subscriberLimits,
      observer(transport, topic),
      transport,
    );
  }

  /** Yoga's topic naming: `routingKey`, or `routingKey:id` for a routed event */
  const topicOf = (routingKey: string, id: unknown): string =>
    id === undefined ? routingKey : `${routingKey}:${String(id)}`;

  /** the transport of the subscribe() call running now (pubsubFor), if any */
  let subscribingFor: SubscriberTransport | undefined;

  function typedPubSub(): PubSub<M> {
    const pubsub = {
      publish(routingKey: string, ...args: [unknown] | [string, unknown]): void {
        const [first, second] = args;
        if (args.length === 2) publishTopic(topicOf(routingKey, first), second ?? null);
        else publishTopic(routingKey, first ?? null);
      },
      subscribe(routingKey: string, id?: string) {
        return subscribeTopic(topicOf(routingKey, id), subscribingFor);
      },
    };
    // One topic string names both ends, so a topic's subscribers get exactly what its publishers pass as
    // M[topic]; TypeScript cannot follow the payload type through the topic string.
    return pubsub as PubSub<M>;
  }

  const pubsub = typedPubSub();
  const scoped = new WeakMap<SubscriberTransport, PubSub<M>>();

  if (redis) await redis.settled(options.connectWaitMs ?? 3000);

  return {
    pubsub,
    kind: metrics.kind,
    metrics,
    pubsubFor(transport, base = pubsub) {
      let forTransport = scoped.get(transport);
      if (!forTransport) {
        forTransport = {
          publish: (...args) => base.publish(...args),
          subscribe: (...args) => {
            // subscribe() runs synchronously: the subscription it creates takes the transport from here
            subscribingFor = transport;
            try {
              return base.subscribe(...args);
            } finally {
              subscribingFor = undefined;
            }
          },
        };
        scoped.set(transport, forTransport);
      }
      return forTransport;
    },
    health() {
      switch (metrics.state) {
        case 'in-process':
          return {
            ok: true,
            degraded: false,
            detail: "in-process (REDIS_URL not set): events reach this replica's subscribers only",
          };
        case 'connected':
          return { ok: true, degraded: false, detail: 'Redis connected: events reach every replica' };
        default:
          return {
            ok: true,
            degraded: true,
            detail: `Redis unreachable since ${new Date(metrics.stateSince).toISOString()} (reconnecting): events published here reach this replica's subscribers only, other replicas' events are missed`,
          };
      }
    },
    async close() {
      await redis?.close();
    },
  };
}
