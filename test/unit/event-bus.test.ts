/**
 * The in-process event bus: routing, bounded subscriber queues (by events and by bytes), the drop of a
 * subscriber that stops taking events (publishing never throws, others lose nothing), and the metrics.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createEventBus, type EventBus } from '../../src/pubsub/bus.ts';
import { SubscriberTooSlowError, type SubscriberTransport } from '../../src/pubsub/subscription.ts';

type Events = { tick: [endpoint: string, payload: { n: number; pad?: string }]; note: [payload: string] };

const logger = createLogger('silent');
const tick = () => new Promise((resolve) => setImmediate(resolve));

async function bus(maxEvents = 8, maxBytes = 1024 * 1024): Promise<EventBus<Events>> {
  return createEventBus<Events>({ logger, subscriberLimits: { maxEvents, maxBytes } });
}

/** takes every event of an iterator into `into` until it ends; resolves to the error it ended with, if any */
async function collect<T>(iterator: AsyncIterable<T>, into: T[]): Promise<unknown> {
  try {
    for await (const value of iterator) into.push(value);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('event bus (in-process)', () => {
  it('routes by key, and a subscription that ends leaves no subscriber behind', async () => {
    const { pubsub, metrics } = await bus();
    const a: { n: number }[] = [];
    const notes: string[] = [];
    const toA = pubsub.subscribe('tick', 'a');
    const toNotes = pubsub.subscribe('note');
    void collect(toA, a);
    void collect(toNotes, notes);
    await tick();
    expect(metrics.subscribers).toBe(2);
    pubsub.publish('tick', 'a', { n: 1 });
    pubsub.publish('tick', 'b', { n: 2 });
    pubsub.publish('note', 'hello');
    await tick();
    expect(a).toEqual([{ n: 1 }]);
    expect(notes).toEqual(['hello']);
    await toA.return();
    await toNotes.return();
    expect(metrics.subscribers).toBe(0);
    expect(metrics).toMatchObject({ published: 3, delivered: 2, bufferedEvents: 0, bufferedBytes: 0 });
  });

  it('drops a subscriber that stops taking events at the bound, without throwing, and the others get every event', async () => {
    const { pubsub, metrics } = await bus(8);
    const stalled = pubsub.subscribe('tick', 'x');
    const healthy: { n: number }[] = [];
    const healthyEnd = collect(pubsub.subscribe('tick', 'x'), healthy);
    const first = stalled.next(); // attaches it; it takes one event and then no more
    await tick();
    let maxBuffered = 0;
    for (let n = 0; n < 200; n++) {
      expect(() => pubsub.publish('tick', 'x', { n })).not.toThrow();
      maxBuffered = Math.max(maxBuffered, metrics.bufferedEvents);
      if (n % 4 === 3) await tick(); // the healthy one keeps up between batches
    }
    await tick();
    expect((await first).value).toEqual({ n: 0 });
    expect(metrics.droppedSubscribers).toBe(1);
    expect(metrics.subscribers).toBe(1);
    expect(maxBuffered).toBeLessThanOrEqual(8 + 4);
    expect(healthy.map((e) => e.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));

    // the stalled one gets at most the event that was already on its way, then the reason
    const rest: { n: number }[] = [];
    const error = await collect(stalled, rest);
    expect(rest.length).toBeLessThanOrEqual(1);
    expect(error).toBeInstanceOf(SubscriberTooSlowError);
    expect((error as SubscriberTooSlowError).extensions.code).toBe('SUBSCRIBER_TOO_SLOW');
    expect(metrics.bufferedEvents).toBe(0);
    void healthyEnd;
  });

  it('bounds the bytes waiting too, and tells the transport to disconnect', async () => {
    const { pubsubFor, metrics } = await bus(1000, 4096);
    const reasons: string[] = [];
    const transport: SubscriberTransport = { kind: 'test', disconnect: (reason) => reasons.push(reason) };
    const pubsub = pubsubFor(transport);
    const stalled = pubsub.subscribe('tick', 'y');
    // attaches it; all ten events arrive before it could take one, so this ends with the reason
    const first = stalled.next().catch((error: unknown) => error);
    await tick();
    const pad = 'p'.repeat(1000);
    for (let n = 0; n < 10; n++) pubsub.publish('tick', 'y', { n, pad });
    expect(metrics.droppedSubscribers).toBe(1);
    expect(reasons).toEqual(['subscriber too slow: over 1000 events or 4096 bytes undelivered']);
    expect(metrics.bufferedBytes).toBe(0);
    expect(await first).toBeInstanceOf(SubscriberTooSlowError);
  });

  it('a pubsub for a transport calls its base at each call (a replaced method applies)', async () => {
    const { pubsub, pubsubFor } = await bus();
    const transport: SubscriberTransport = { kind: 'test', disconnect: () => {} };
    const scoped = pubsubFor(transport, pubsub);
    const calls: string[] = [];
    const original = pubsub.publish;
    pubsub.publish = (...args) => {
      calls.push(args[0]);
      original(...args);
    };
    scoped.publish('note', 'x');
    expect(calls).toEqual(['note']);
    pubsub.publish = original;
  });
});
