/**
 * Subscriptions' event bus: in-process for one instance, Redis pub/sub (graphql-yoga's Redis event
 * target) when REDIS_URL is set, so an event published on one replica reaches subscribers on all.
 */

import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

export interface EventBus<M extends Record<string, [unknown] | [string, unknown]>> {
  pubsub: PubSub<M>;
  kind: 'memory' | 'redis';
  close(): Promise<void>;
}

export async function createEventBus<M extends Record<string, [unknown] | [string, unknown]>>(
  redisUrl: string | undefined,
  logger: Logger,
): Promise<EventBus<M>> {
  if (!redisUrl) return { pubsub: createPubSub<M>(), kind: 'memory', close: async () => {} };
  const options = { lazyConnect: true, maxRetriesPerRequest: 3 };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (error) => logger.warn('redis error', { error: error.message }));
  }
  await Promise.all([publishClient.connect(), subscribeClient.connect()]);
  const eventTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  return {
    pubsub: createPubSub<M>({ eventTarget: eventTarget as never }),
    kind: 'redis',
    async close() {
      subscribeClient.disconnect();
      publishClient.disconnect();
    },
  };
}
