/**
 * Fan-out of events between replicas over Redis pub/sub, best effort. Every replica delivers its own
 * events to its own subscribers itself (bus.ts); Redis only carries them to the other replicas, so
 * losing Redis loses cross-replica events and nothing else:
 * - no command waits for a connection (no offline queue): a publish while Redis is unreachable fails at
 *   once and is counted, it does not pile up in memory to be replayed late;
 * - ioredis reconnects forever (every second at most); each time the subscribing connection becomes
 *   ready, it subscribes to every channel that has local subscribers now (autoResubscribe would replay
 *   the channels of the old connection, including ones given up since);
 * - every message carries the id of the replica that sent it, and a replica ignores its own, which it
 *   has delivered already.
 * Redis pub/sub keeps nothing for a subscriber that is away: events published while a replica is cut
 * off from Redis never reach it.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';

export type RedisState = 'connecting' | 'connected' | 'down';

export interface RedisFanoutOptions {
  url: string;
  logger: Logger;
  /** an event another replica published; `bytes`: its serialized size */
  onMessage(topic: string, payload: unknown, bytes: number): void;
  onStateChange(state: RedisState): void;
  /** the topics this replica has subscribers for now */
  topics(): Iterable<string>;
}

/** a message on a channel: the sending replica and the event (JSON) */
interface Envelope {
  origin: string;
  payload: unknown;
}

export class RedisFanout {
  /** this bus's id in every message it sends */
  readonly origin = randomUUID();
  #state: RedisState = 'connecting';
  #closing = false;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #options: RedisFanoutOptions;
  readonly #restarts = new Set<NodeJS.Timeout>();
  #waiters: (() => void)[] = [];

  constructor(options: RedisFanoutOptions) {
    this.#options = options;
    const clientOptions: RedisOptions = {
      enableOfflineQueue: false,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 3000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    };
    this.#publisher = new Redis(options.url, { ...clientOptions, connectionName: 'vigil-publish' });
    this.#subscriber = new Redis(options.url, { ...clientOptions, connectionName: 'vigil-subscribe' });
    for (const client of [this.#publisher, this.#subscriber]) {
      // without a listener ioredis prints every failed reconnection; the state change is logged instead
      client.on('error', (error: Error) => options.logger.debug('redis connection error', { error: error.message }));
      client.on('ready', () => this.#update('ready'));
      client.on('close', () => this.#update('close'));
      client.on('end', () => this.#restartAfterEnd(client));
    }
    this.#subscriber.on('ready', () => this.#resubscribe());
    this.#subscriber.on('message', (channel: string, message: string) => this.#receive(channel, message));
  }

  get state(): RedisState {
    return this.#state;
  }

  /**
   * resolves when the first connection attempt has settled (both connections ready, or one failed), or
   * after `timeoutMs`: a replica starts without Redis rather than wait for it
   */
  async settled(timeoutMs: number): Promise<void> {
    if (this.#state !== 'connecting') return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(resolve);
    });
    clearTimeout(timer);
  }

  /** sends an event (its JSON) to the other replicas; false when Redis is unreachable now */
  publish(topic: string, json: string): boolean {
    if (this.#publisher.status !== 'ready') return false;
    const message = `{"origin":${JSON.stringify(this.origin)},"payload":${json}}`;
    this.#publisher.publish(topic, message).catch((error: Error) => {
      // the connection dropped with the command in flight: the next publish finds it not ready
      this.#options.logger.debug('redis publish failed', { topic, error: error.message });
    });
    return true;
  }

  /** a topic got its first local subscriber */
  subscribe(topic: string): void {
    if (this.#subscriber.status !== 'ready') return; // subscribed to on the next 'ready'
    this.#subscriber.subscribe(topic).catch((error: Error) => {
      this.#options.logger.debug('redis subscribe failed', { topic, error: error.message });
    });
  }

  /** a topic lost its last local subscriber */
  unsubscribe(topic: string): void {
    if (this.#subscriber.status !== 'ready') return; // a new connection starts with no subscriptions
    this.#subscriber.unsubscribe(topic).catch((error: Error) => {
      this.#options.logger.debug('redis unsubscribe failed', { topic, error: error.message });
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
    for (const timer of this.#restarts) clearTimeout(timer);
    this.#restarts.clear();
    this.#subscriber.disconnect();
    this.#publisher.disconnect();
  }

  #resubscribe(): void {
    const topics = [...this.#options.topics()];
    if (!topics.length) return;
    this.#subscriber.subscribe(...topics).catch((error: Error) => {
      this.#options.logger.warn('redis resubscribe failed', { topics: topics.length, error: error.message });
    });
  }

  #receive(channel: string, message: string): void {
    const envelope = parseEnvelope(message);
    if (!envelope) {
      this.#options.logger.warn('ignored a malformed message from Redis', { channel, bytes: message.length });
      return;
    }
    if (envelope.origin === this.origin) return; // delivered locally when it was published
    this.#options.onMessage(channel, envelope.payload, Buffer.byteLength(message));
  }

  /** connected: both connections ready; down: either lost (or the first attempt failed) */
  #update(event: 'ready' | 'close'): void {
    if (this.#closing) return;
    const ready = this.#publisher.status === 'ready' && this.#subscriber.status === 'ready';
    // at start, one connection ready before the other is still connecting, not down
    const next: RedisState = ready
      ? 'connected'
      : this.#state === 'connecting' && event === 'ready'
        ? 'connecting'
        : 'down';
    if (next === this.#state) return;
    this.#state = next;
    for (const resolve of this.#waiters.splice(0)) resolve();
    this.#options.onStateChange(next);
  }

  /**
   * ioredis gives up ('end') only when a connection attempt fails before it has a socket, or when closed;
   * a replica never gives up on Redis, so it starts over.
   */
  #restartAfterEnd(client: Redis): void {
    this.#update('close');
    if (this.#closing) return;
    const timer = setTimeout(() => {
      this.#restarts.delete(timer);
      if (!this.#closing && client.status === 'end') client.connect().catch(() => {});
    }, 1000);
    this.#restarts.add(timer);
  }
}

function parseEnvelope(message: string): Envelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || !('origin' in value) || !('payload' in value)) return undefined;
  return typeof value.origin === 'string' ? { origin: value.origin, payload: value.payload } : undefined;
}
