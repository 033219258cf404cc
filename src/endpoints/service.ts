/**
 * The endpoint registry. Requests read an endpoint's configuration once through `snapshot`, served
 * from memory; every change is published, and each replica drops its cached copy when it hears of it,
 * so an update takes effect for the next request without a restart.
 */
import { randomUUID } from 'node:crypto';
import type { PubSub } from 'graphql-yoga';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { EventMap } from '../pubsub/events.ts';
import { patchedRetention } from '../retention/days.ts';
import { EMPTY_USAGE, type StorageUsage } from '../retention/types.ts';
import type { EndpointStore } from './store.ts';
import type { Endpoint, EndpointChangeKind, EndpointInput, EndpointLookup, EndpointUpdate, Patch } from './types.ts';
import { validateDataCapture, validateDebugHook, validateName } from './validation.ts';

export interface EndpointServiceDeps {
  store: EndpointStore;
  pubsub: PubSub<EventMap>;
  logger: Logger;
  defaultModel: string;
  /** resolves when the model is ready to serve; throws ValidationError for an unknown model */
  prepareModel: (model: string) => Promise<void>;
  /**
   * resolves an includeRegex to the model's tensor names it selects, off the main thread and under a
   * time limit; ValidationError for a pattern that does not finish
   */
  resolveIncludeRegex?: (model: string, pattern: string) => Promise<void>;
  /** how long a cached snapshot may be used without hearing of changes (a backstop for lost events) */
  snapshotTtlMs?: number;
  /** the rows and bytes each endpoint holds (retention/storage.ts) */
  measureStorage?: (endpointIds: readonly string[]) => Promise<Map<string, StorageUsage>>;
}

/** an endpoint and what it holds in the database */
export interface EndpointStorage {
  endpoint: Endpoint;
  usage: StorageUsage;
}

export class EndpointService implements EndpointLookup {
  readonly #cache = new Map<string, { endpoint: Endpoint; loadedAt: number }>();
  readonly #ttl: number;
  #stopListening: (() => void) | undefined;

  constructor(private readonly deps: EndpointServiceDeps) {
    this.#ttl = deps.snapshotTtlMs ?? 2000;
  }

  /** Listens for changes made on any replica. */
  start(): void {
    const iterator = this.deps.pubsub.subscribe('endpointChanged');
    this.#stopListening = () => void iterator.return?.();
    void (async () => {
      for await (const change of iterator) this.#cache.delete(change.name);
    })().catch((error) => this.deps.logger.error('endpoint change listener stopped', { error }));
  }

  stop(): void {
    this.#stopListening?.();
  }

  get(name: string): Promise<Endpoint | null> {
    return this.deps.store.findByName(name);
  }

  /** the endpoint a request names; NotFoundError when there is none */
  require(name: string): Promise<Endpoint> {
    return requireEndpoint(this.deps.store, name);
  }

  list(): Promise<Endpoint[]> {
    return this.deps.store.list();
  }

  /** what every endpoint, or the one named, holds (NotFoundError for an unknown endpoint) */
  async storage(name?: string | null): Promise<EndpointStorage[]> {
    const endpoints = name ? [await this.require(name)] : await this.list();
    const usage = await (this.deps.measureStorage?.(endpoints.map((e) => e.id)) ?? new Map<string, StorageUsage>());
    return endpoints.map((endpoint) => ({ endpoint, usage: usage.get(endpoint.id) ?? EMPTY_USAGE }));
  }

  /** The configuration a request runs with; throws NotFoundError for an unknown endpoint. */
  async snapshot(name: string): Promise<Endpoint> {
    const cached = this.#cache.get(name);
    if (cached && Date.now() - cached.loadedAt < this.#ttl) return cached.endpoint;
    const endpoint = await this.deps.store.findByName(name);
    if (!endpoint) {
      this.#cache.delete(name);
      throw new NotFoundError('Endpoint', name);
    }
    this.#cache.set(name, { endpoint, loadedAt: Date.now() });
    return endpoint;
  }

  async create(input: EndpointInput): Promise<Endpoint> {
    validateName(input.name);
    const draft = {
      id: randomUUID(),
      name: input.name,
      model: input.model ?? this.deps.defaultModel,
      dataCapture: {
        enabled: false,
        samplingPercentage: 0,
        captureMode: 'BOTH' as const,
        ...defined(input.dataCapture),
        retentionDays: patchedRetention(input.dataCapture?.retentionDays, null),
      },
      debugHook: {
        enabled: false,
        includeRegex: null,
        saveInterval: 1,
        collections: [],
        ...defined(input.debugHook),
        retentionDays: patchedRetention(input.debugHook?.retentionDays, null),
      },
    };
    if (draft.debugHook.includeRegex === '') draft.debugHook.includeRegex = null;
    validateDataCapture(draft.dataCapture);
    validateDebugHook(draft.debugHook);
    await this.deps.prepareModel(draft.model);
    if (draft.debugHook.includeRegex !== null)
      await this.deps.resolveIncludeRegex?.(draft.model, draft.debugHook.includeRegex);
    const created = await this.deps.store.insert(draft);
    if (!created) throw new ConflictError(`Endpoint '${input.name}' already exists`);
    this.#publish('CREATED', created.name);
    return created;
  }

  async update(name: string, input: EndpointUpdate): Promise<Endpoint> {
    const current = await this.deps.store.findByName(name);
    if (!current) throw new NotFoundError('Endpoint', name);
    const next = {
      ...current,
      model: input.model ?? current.model,
      dataCapture: {
        ...current.dataCapture,
        ...defined(input.dataCapture),
        retentionDays: patchedRetention(input.dataCapture?.retentionDays, current.dataCapture.retentionDays),
      },
      debugHook: {
        ...current.debugHook,
        ...defined(input.debugHook),
        retentionDays: patchedRetention(input.debugHook?.retentionDays, current.debugHook.retentionDays),
      },
    };
    if (input.debugHook?.includeRegex === '') next.debugHook.includeRegex = null;
    validateDataCapture(next.dataCapture);
    validateDebugHook(next.debugHook);
    // The new model is loaded before the change is visible: requests in flight keep the snapshot
    // they read, later ones get the new model ready to run.
    if (next.model !== current.model) await this.deps.prepareModel(next.model);
    if (next.debugHook.includeRegex !== null)
      await this.deps.resolveIncludeRegex?.(next.model, next.debugHook.includeRegex);
    const updated = await this.deps.store.replace(next);
    if (!updated) throw new NotFoundError('Endpoint', name);
    this.#cache.set(name, { endpoint: updated, loadedAt: Date.now() });
    this.#publish('UPDATED', name);
    return updated;
  }

  /**
   * The endpoint is gone for every reader (and its name free) when this returns; its data is deleted
   * in the background by the retention sweeper, which the published DELETED event wakes.
   */
  async delete(name: string): Promise<Endpoint> {
    const deleted = await this.deps.store.deleteByName(name, new Date());
    if (!deleted) throw new NotFoundError('Endpoint', name);
    this.#cache.delete(name);
    this.#publish('DELETED', name);
    return deleted;
  }

  #publish(kind: EndpointChangeKind, name: string): void {
    this.deps.pubsub.publish('endpointChanged', { kind, name, at: new Date().toISOString() });
  }
}

/** drops keys whose value is null or undefined, so a partial input only overrides what it sets */
function defined<T extends object>(partial: Patch<T> | null | undefined): Partial<T> {
  if (!partial) return {};
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

async function requireEndpoint(store: Pick<EndpointStore, 'findByName'>, name: string): Promise<Endpoint> {
  const endpoint = await store.findByName(name);
  if (!endpoint) throw new NotFoundError('Endpoint', name);
  return endpoint;
}

/** endpoint lookups straight from the database, for tools that run without the registry (the CLI) */
export function endpointLookup(store: Pick<EndpointStore, 'findByName'>): EndpointLookup {
  return { get: (name) => store.findByName(name), require: (name) => requireEndpoint(store, name) };
}
