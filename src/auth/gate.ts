/**
 * Who is calling, and whether they may call now: the one decision HTTP requests, event streams and
 * WebSocket connections share. The Authorization header (or graphql-ws's connection_init payload)
 * names a key; without one, a caller is anonymous only while no key exists at all and anonymous use
 * is permitted (a loopback address, or ALLOW_ANONYMOUS=true).
 */
import { type RateLimitedError, UnauthenticatedError } from '../errors.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Identity } from './roles.ts';
import { parseBearer } from './secrets.ts';
import type { ApiKeyService, KeyLookup } from './service.ts';

/** what the gate asks of the keys (ApiKeyService) */
export type KeyDirectory = Pick<ApiKeyService, 'keys' | 'onReload'>;

/** the caller, or why there is none */
export type Admission = Identity | UnauthenticatedError;

export class Gate {
  constructor(
    private readonly keys: KeyDirectory,
    private readonly limiter: RateLimiter,
    /** anonymous callers may be admitted when no key exists (see binding.ts) */
    private readonly anonymousPermitted: boolean,
  ) {}

  /**
   * The caller of a request with this Authorization value, from this remote address: at once while
   * the keys in memory are fresh (every request but about one in 30 s), a promise while they reload.
   */
  identify(authorization: string | null | undefined, address: string): Admission | Promise<Admission> {
    const keys = this.keys.keys();
    if (keys instanceof Promise) return keys.then((k) => this.#identify(k, authorization, address));
    return this.#identify(keys, authorization, address);
  }

  /** takes one request from the caller's rate limit */
  admit(identity: Identity): RateLimitedError | null {
    return this.limiter.take(identity);
  }

  /** see ApiKeyService.onReload */
  onKeysReloaded(listener: (active: ReadonlySet<string>) => void): () => void {
    return this.keys.onReload(listener);
  }

  #identify(keys: KeyLookup, authorization: string | null | undefined, address: string): Admission {
    if (!keys.anyKey()) {
      if (this.anonymousPermitted) return { kind: 'anonymous', address };
      return new UnauthenticatedError(
        'no API key exists yet: start the server with API_KEYS set (README "Deployment")',
      );
    }
    const bearer = parseBearer(authorization);
    if (bearer.kind === 'none')
      return new UnauthenticatedError('an API key is required: send the header Authorization: Bearer <key>');
    if (bearer.kind === 'malformed') return new UnauthenticatedError('the Authorization header must be "Bearer <key>"');
    const key = keys.match(bearer.secret);
    if (!key) return new UnauthenticatedError('the API key is not valid (unknown or revoked)');
    return { kind: 'key', keyName: key.name, role: key.role };
  }
}
