/**
 * A busy topic for the stalled subscribers: prediction events of the endpoint `soak-busy`, 64 KB each,
 * published onto the shared Redis by an event bus of the soak's own (src/pubsub, as a third replica
 * serving that endpoint would). Real predictions are ~250 bytes, and a paused socket's kernel buffers
 * hold ~4 MB on loopback: on their own, predictions would fill them only after minutes. The replicas
 * deliver these events to their subscribers of `soak-busy` as any other replica's: only the stalled
 * subscribers listen there, and the server must drop them at SUBSCRIBER_BUFFER_EVENTS without the
 * healthy subscribers (on `soak`) missing anything.
 */
import { createLogger } from '../../src/logger.ts';
import { createEventBus } from '../../src/pubsub/bus.ts';
import type { EventMap } from '../../src/pubsub/events.ts';

export const BUSY_ENDPOINT = 'soak-busy';
const LABEL = 'x'.repeat(64 * 1024);

export interface Flood {
  /** events published (handed to Redis while it was reachable) */
  published(): number;
  /** stops publishing and closes the bus (again: the same promise) */
  stop(): Promise<void>;
}

export async function startFlood(redisUrl: string, perSecond: number): Promise<Flood> {
  const bus = await createEventBus<EventMap>({
    redisUrl,
    logger: createLogger('error', 'soak-flood'),
    subscriberLimits: { maxEvents: 1, maxBytes: 1024 },
  });
  let n = 0;
  const timer = setInterval(() => {
    bus.pubsub.publish('prediction', BUSY_ENDPOINT, {
      endpoint: BUSY_ENDPOINT,
      predictedClass: n++ % 43,
      label: LABEL,
      confidence: 0.5,
      captureId: null,
      modelVersion: 'soak',
      at: new Date().toISOString(),
      latencyMs: 0,
      outlierScore: null,
    });
  }, 1000 / perSecond);
  let closed: Promise<void> | undefined;
  return {
    published: () => bus.metrics.fannedOut,
    stop() {
      clearInterval(timer);
      closed ??= bus.close();
      return closed;
    },
  };
}
