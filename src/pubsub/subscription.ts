/**
 * One subscriber's events on their way out: a bounded queue between the bus, which offers events
 * synchronously as they are published, and the transport, which takes them as fast as its client reads.
 * A client that stops reading (a paused WebSocket, an SSE reader that never reads) stops taking; its
 * queue fills up to SUBSCRIBER_BUFFER_EVENTS events or SUBSCRIBER_BUFFER_BYTES bytes, and then the
 * subscriber is dropped: its queue freed, its iteration ended with SubscriberTooSlowError, its
 * connection told to close. Offering never throws and never waits, so one slow subscriber delays no
 * one else (Yoga's own pub/sub queues without a bound and throws inside the publisher's listener at
 * 1,024 pending events: Repeater's MAX_QUEUE_LENGTH).
 */
import { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';

export interface SubscriberLimits {
  /** events waiting for one subscriber, at most */
  maxEvents: number;
  /** their serialized size in bytes, at most (an event alone may exceed it) */
  maxBytes: number;
}

/**
 * How a subscriber's events leave the process (a WebSocket, an HTTP event stream). The bus tells it to
 * disconnect a subscriber that fell behind; `reason` is written for the client.
 */
export interface SubscriberTransport {
  /** for logs: 'websocket' or 'http' */
  readonly kind: string;
  disconnect(reason: string): void;
}

/** what a subscriber that fell behind gets instead of its next event (SSE: an error event; WebSocket: an error message, if it still reads) */
export class SubscriberTooSlowError extends GraphQLError {
  constructor(readonly limits: SubscriberLimits) {
    super(slowReason(limits), { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
    this.name = 'SubscriberTooSlowError';
  }
}

/** short enough for a WebSocket close reason (123 bytes) */
export function slowReason(limits: SubscriberLimits): string {
  return `subscriber too slow: over ${limits.maxEvents} events or ${limits.maxBytes} bytes undelivered`;
}

/** what a subscription reports to the bus's counters */
export interface SubscriptionObserver {
  /** an event left the queue for the transport */
  delivered(): void;
  /** the queue grew or shrank by this many events and bytes */
  buffered(events: number, bytes: number): void;
  /** the subscriber fell behind and was dropped */
  overflowed(): void;
}

/** offers one event and its size; never throws */
export type Offer<T> = (value: T, bytes: number) => void;

/**
 * A Repeater (what Yoga's PubSub.subscribe returns) fed from a bounded queue. `attach` registers the
 * offer function with the bus and returns the function that removes it; it runs when the consumer first
 * asks for an event, and the removal when the iteration ends however it ends.
 */
export function boundedSubscription<T>(
  attach: (offer: Offer<T>) => () => void,
  limits: SubscriberLimits,
  observer: SubscriptionObserver,
  transport: SubscriberTransport | undefined,
): Repeater<T> {
  return new Repeater<T>(async (push, stop) => {
    const queue: { value: T; bytes: number }[] = [];
    let queuedBytes = 0;
    let stopped = false;
    let wake: (() => void) | undefined;

    const drop = () => {
      observer.buffered(-queue.length, -queuedBytes);
      queue.length = 0;
      queuedBytes = 0;
    };
    const detach = attach((value, bytes) => {
      if (stopped) return;
      if (queue.length >= limits.maxEvents || (queue.length > 0 && queuedBytes + bytes > limits.maxBytes)) {
        stopped = true;
        drop();
        observer.overflowed();
        // the error ends the iteration for a consumer that still pulls; the transport closes the connection
        // of one that does not
        stop(new SubscriberTooSlowError(limits));
        try {
          transport?.disconnect(slowReason(limits));
        } catch {
          // the connection is going away anyway; a failure to close it must not reach the publisher
        }
        wake?.();
        return;
      }
      queue.push({ value, bytes });
      queuedBytes += bytes;
      observer.buffered(1, bytes);
      wake?.();
    });
    void stop.then(() => {
      stopped = true;
      detach();
      drop();
      wake?.();
    });

    while (!stopped) {
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      queuedBytes -= next.bytes;
      observer.buffered(-1, -next.bytes);
      observer.delivered();
      // resolves when the consumer asks for the event after this one: at most one event is in the
      // Repeater's hands, the rest wait (bounded) in `queue`
      await push(next.value);
    }
  });
}
