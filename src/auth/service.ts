/**
 * API keys: those of API_KEYS and those created through the API, looked up by the digest of the
 * presented secret. Every active key is held in memory (a deployment has tens, not millions), so a
 * request, even one with a made-up key, costs a hash and a map lookup and no query. A change on any
 * replica is published (`apiKeysChanged`) and every replica reloads at once, so a revoked key stops
 * working everywhere within the event's delivery; a reload at most `ttlMs` after the last one is the
 * backstop for a lost event.
 */
import { randomUUID } from 'node:crypto';
import type { PubSub } from 'graphql-yoga';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { EventMap } from '../pubsub/events.ts';
import { isRole, ROLES, type Role } from './roles.ts';
import { digestOf, type EnvironmentKey, generateSecret, sameDigest } from './secrets.ts';
import type { ApiKeyStore, StoredKey } from './store.ts';

export type ApiKeySource = 'environment' | 'stored';

/** a key as `apiKeys` lists it: never its secret or digest */
export interface ApiKeyView {
  name: string;
  role: Role;
  source: ApiKeySource;
  /** null for keys of API_KEYS */
  createdAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** published on every change; replicas reload on hearing it */
export interface ApiKeyChange {
  name: string;
  change: 'CREATED' | 'REVOKED';
}

export interface KeyMatch {
  name: string;
  role: Role;
}

/** the keys of one moment, read synchronously */
export interface KeyLookup {
  /** any key in API_KEYS or in the table, revoked ones included: anonymous access has ended */
  anyKey(): boolean;
  /** the active key a secret belongs to (looked up by digest), or null */
  match(secret: string): KeyMatch | null;
}

interface ActiveKey extends KeyMatch {
  digest: Buffer;
  stored: boolean;
}

interface KeySnapshot {
  /** hex digest → key, active keys only */
  byDigest: Map<string, ActiveKey>;
  /** any key in API_KEYS or in the table, revoked ones included: anonymous access has ended */
  anyKey: boolean;
  loadedAt: number;
}

export interface ApiKeyServiceDeps {
  store: ApiKeyStore;
  pubsub: PubSub<EventMap>;
  logger: Logger;
  environmentKeys: readonly EnvironmentKey[];
  /** how long the keys in memory are used without a reload when no event arrives */
  ttlMs?: number;
  /** how often at most a key's lastUsedAt is written */
  touchIntervalMs?: number;
}

const NAME_MAX = 64;
const ENV_PREFIX = 'env-';

export class ApiKeyService {
  readonly #environment: ActiveKey[];
  readonly #ttl: number;
  readonly #touchInterval: number;
  #snapshot: KeySnapshot | undefined;
  #reloading: Promise<KeySnapshot> | undefined;
  readonly #listeners = new Set<(active: ReadonlySet<string>) => void>();
  readonly #touched = new Map<string, number>();
  readonly #writes = new Set<Promise<void>>();
  #stopListening: (() => void) | undefined;

  constructor(private readonly deps: ApiKeyServiceDeps) {
    this.#environment = deps.environmentKeys.map((k) => ({
      name: k.name,
      role: k.role,
      digest: digestOf(k.secret),
      stored: false,
    }));
    this.#ttl = deps.ttlMs ?? 30_000;
    this.#touchInterval = deps.touchIntervalMs ?? 60_000;
  }

  /** Listens for changes made on any replica. */
  start(): void {
    const iterator = this.deps.pubsub.subscribe('apiKeysChanged');
    this.#stopListening = () => void iterator.return?.();
    void (async () => {
      for await (const _change of iterator)
        await this.reload().catch((error) => this.deps.logger.error('reloading API keys failed', { error }));
    })().catch((error) => this.deps.logger.error('API key change listener stopped', { error }));
  }

  async stop(): Promise<void> {
    this.#stopListening?.();
    await Promise.allSettled([...this.#writes]);
  }

  /**
   * The keys as they are now: at once from memory while fresh (the path every request takes, so no
   * promise), otherwise after a reload.
   */
  keys(): KeyLookup | Promise<KeyLookup> {
    const snapshot = this.#snapshot;
    if (snapshot && performance.now() - snapshot.loadedAt < this.#ttl) return this.#lookup;
    return this.#refresh(snapshot).then(() => this.#lookup);
  }

  /** whether any key exists (API_KEYS, or stored, revoked included); reads the table once if never read */
  async anyKey(): Promise<boolean> {
    return (await this.keys()).anyKey();
  }

  /** the key a secret belongs to, or null for an unknown or revoked one */
  async authenticate(secret: string): Promise<KeyMatch | null> {
    return (await this.keys()).match(secret);
  }

  /** reads through the latest snapshot */
  readonly #lookup: KeyLookup = {
    anyKey: () => this.#snapshot?.anyKey ?? true,
    match: (secret) => {
      const snapshot = this.#snapshot;
      if (!snapshot) return null;
      const digest = digestOf(secret);
      const key = snapshot.byDigest.get(digest.toString('hex'));
      if (!key || !sameDigest(key.digest, digest)) return null;
      if (key.stored) this.#touch(key.name);
      return { name: key.name, role: key.role };
    },
  };

  /** Creates a stored key; its secret is in the answer and nowhere else, ever. */
  async create(input: { name: string; role: string }): Promise<{ key: ApiKeyView; secret: string }> {
    validateName(input.name);
    if (!isRole(input.role)) throw new ValidationError('input.role', `role must be one of ${ROLES.join(', ')}`);
    const secret = generateSecret();
    const wasAnonymous = !(await this.anyKey());
    const stored = await this.deps.store.insert({
      id: randomUUID(),
      name: input.name,
      role: input.role,
      digest: digestOf(secret).toString('hex'),
    });
    if (!stored) {
      const existing = await this.deps.store.findByName(input.name);
      throw new ConflictError(
        existing?.revokedAt
          ? `an API key named '${input.name}' existed and was revoked; names are not reused, choose another`
          : `an API key named '${input.name}' exists`,
      );
    }
    await this.#changed({ name: stored.name, change: 'CREATED' });
    if (wasAnonymous)
      this.deps.logger.warn(
        `API key '${stored.name}' created: anonymous access has ended, every request now needs a key`,
      );
    else this.deps.logger.info(`API key '${stored.name}' created`, { role: stored.role });
    return { key: viewOf(stored), secret };
  }

  /** Revokes a stored key on every replica; revoking a revoked key changes nothing. */
  async revoke(name: string): Promise<ApiKeyView> {
    if (name.startsWith(ENV_PREFIX)) {
      throw new ValidationError(
        'name',
        `'${name}' names a key of API_KEYS: remove it from the variable and restart to revoke it`,
      );
    }
    const existing = await this.deps.store.findByName(name);
    if (!existing) throw new NotFoundError('ApiKey', name);
    if (existing.revokedAt) return viewOf(existing);
    const revoked = await this.deps.store.revoke(name, new Date());
    if (!revoked) throw new NotFoundError('ApiKey', name);
    await this.#changed({ name, change: 'REVOKED' });
    this.deps.logger.info(`API key '${name}' revoked`);
    return viewOf(revoked);
  }

  /** keys of API_KEYS first (in their order), then stored ones, oldest first, revoked ones included */
  async list(): Promise<ApiKeyView[]> {
    const environment: ApiKeyView[] = this.#environment.map((k) => ({
      name: k.name,
      role: k.role,
      source: 'environment',
      createdAt: null,
      lastUsedAt: null,
      revokedAt: null,
    }));
    return [...environment, ...(await this.deps.store.list()).map(viewOf)];
  }

  /**
   * Called after every reload with the names of the keys active now, so that the server can close
   * what a revoked key still holds open (WebSocket connections, event streams).
   */
  onReload(listener: (active: ReadonlySet<string>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** reads the keys again (concurrent callers share one read) */
  reload(): Promise<KeySnapshot> {
    this.#reloading ??= this.#read().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  async #refresh(previous: KeySnapshot | undefined): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      // The database is down: the keys read last time still decide, rather than every request failing.
      if (!previous) throw error;
      this.deps.logger.warn('reloading API keys failed; using the keys read before', { error });
    }
  }

  async #read(): Promise<KeySnapshot> {
    const stored = await this.deps.store.list();
    const byDigest = new Map<string, ActiveKey>();
    for (const key of this.#environment) byDigest.set(key.digest.toString('hex'), key);
    for (const key of stored) {
      if (!key.revokedAt)
        byDigest.set(key.digest, {
          name: key.name,
          role: key.role,
          digest: Buffer.from(key.digest, 'hex'),
          stored: true,
        });
    }
    const snapshot = {
      byDigest,
      anyKey: this.#environment.length > 0 || stored.length > 0,
      loadedAt: performance.now(),
    };
    this.#snapshot = snapshot;
    const active = new Set([...byDigest.values()].map((k) => k.name));
    for (const listener of this.#listeners) listener(active);
    return snapshot;
  }

  /** this replica first (the answer reflects the change), then the others */
  async #changed(change: ApiKeyChange): Promise<void> {
    await this.reload();
    this.deps.pubsub.publish('apiKeysChanged', change);
  }

  /** lastUsedAt, written at most once per interval per key and replica, off the request's path */
  #touch(name: string): void {
    const now = Date.now();
    if (now - (this.#touched.get(name) ?? 0) < this.#touchInterval) return;
    this.#touched.set(name, now);
    const write = this.deps.store
      .touch(name, new Date(now))
      .catch((error) => this.deps.logger.warn('recording an API key use failed', { name, error }))
      .finally(() => this.#writes.delete(write));
    this.#writes.add(write);
  }
}

function viewOf(key: StoredKey): ApiKeyView {
  return {
    name: key.name,
    role: key.role,
    source: 'stored',
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
  };
}

/** 1–64 letters, digits, '.', '_' and '-'; `env-…` is kept for the keys of API_KEYS */
function validateName(name: string): void {
  const ok =
    name.length >= 1 &&
    name.length <= NAME_MAX &&
    [...name].every(
      (ch) =>
        (ch >= 'a' && ch <= 'z') ||
        (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9') ||
        ch === '.' ||
        ch === '_' ||
        ch === '-',
    );
  if (!ok) throw new ValidationError('input.name', `a key name is 1–${NAME_MAX} letters, digits, '.', '_' and '-'`);
  if (name.startsWith(ENV_PREFIX))
    throw new ValidationError('input.name', `names starting with '${ENV_PREFIX}' are kept for the keys of API_KEYS`);
}
