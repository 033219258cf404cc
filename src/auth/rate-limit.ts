/**
 * Per-key rate limits: a token bucket per key (per remote address for anonymous callers), in memory on
 * each replica, with a rate and a burst per role. A request takes one token; an empty bucket answers
 * how long until the next one. The map of buckets is bounded: a bucket idle long enough to have
 * refilled is the same as no bucket, so the least recently used ones are dropped first.
 */
import { RateLimitedError } from '../errors.ts';
import type { Identity, Role } from './roles.ts';

export interface RateLimit {
  /** tokens added per second */
  perSecond: number;
  /** the bucket's size: requests admitted at once after a pause */
  burst: number;
}

export type RateLimitClass = Role | 'anonymous';
export type RateLimits = Readonly<Record<RateLimitClass, RateLimit | null>>;

export const RATE_LIMIT_SYNTAX = '<count>/<s|m|h>[,burst=<count>] (e.g. 200/s,burst=400) or off';

const UNIT_SECONDS: ReadonlyMap<string, number> = new Map([
  ['s', 1],
  ['m', 60],
  ['h', 3600],
]);

/** `200/s`, `600/m,burst=50`, `off`; null for off. Throws an Error describing the syntax. */
export function parseRateLimit(text: string): RateLimit | null {
  const value = text.trim();
  if (value === 'off') return null;
  const fail = (): never => {
    throw new Error(`expected ${RATE_LIMIT_SYNTAX}`);
  };
  const parts = value.split(',');
  if (parts.length > 2) fail();
  const [rate, burstPart] = parts as [string, string | undefined];
  const slash = rate.indexOf('/');
  if (slash < 0) fail();
  const count = wholeNumber(rate.slice(0, slash).trim()) ?? fail();
  const seconds = UNIT_SECONDS.get(rate.slice(slash + 1).trim()) ?? fail();
  let burst = count;
  if (burstPart !== undefined) {
    const [key, raw] = burstPart.split('=');
    if (key?.trim() !== 'burst' || raw === undefined) fail();
    burst = wholeNumber(raw!.trim()) ?? fail();
  }
  return { perSecond: count / seconds, burst };
}

function wholeNumber(text: string): number | null {
  if (text === '' || text.length > 9) return null;
  for (const ch of text) if (ch < '0' || ch > '9') return null;
  const n = Number(text);
  return n >= 1 ? n : null;
}

interface Bucket {
  tokens: number;
  /** when `tokens` was last brought up to date, in ms of `now()` */
  at: number;
}

export interface RateLimiterOptions {
  maxBuckets?: number;
  /** a monotonic clock in ms (tests pass their own) */
  now?: () => number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxBuckets: number;
  readonly #now: () => number;

  constructor(
    private readonly limits: RateLimits,
    options: RateLimiterOptions = {},
  ) {
    this.#maxBuckets = options.maxBuckets ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** takes a token for the caller; a RateLimitedError when there is none */
  take(identity: Identity): RateLimitedError | null {
    const limitClass: RateLimitClass = identity.kind === 'anonymous' ? 'anonymous' : identity.role;
    const limit = this.limits[limitClass];
    if (!limit) return null;
    const id = identity.kind === 'anonymous' ? `address:${identity.address}` : `key:${identity.keyName}`;
    const now = this.#now();
    let bucket = this.#buckets.get(id);
    if (bucket) {
      this.#buckets.delete(id); // re-inserted below: the map's order is least recently used first
      bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
      bucket.at = now;
    } else {
      bucket = { tokens: limit.burst, at: now };
      if (this.#buckets.size >= this.#maxBuckets) this.#evict();
    }
    this.#buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return null;
    }
    const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
    const who = identity.kind === 'anonymous' ? 'this address' : `key '${identity.keyName}'`;
    return new RateLimitedError(wait, `rate limit exceeded for ${who} (${describe(limit)}): retry in ${wait} s`);
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** drops the least recently used tenth, at least one: eviction runs once per many insertions */
  #evict(): void {
    let drop = Math.max(1, Math.floor(this.#maxBuckets / 10));
    for (const id of this.#buckets.keys()) {
      if (drop-- <= 0) break;
      this.#buckets.delete(id);
    }
  }
}

function describe(limit: RateLimit): string {
  return `${Number(limit.perSecond.toFixed(3))}/s, burst ${limit.burst}`;
}
