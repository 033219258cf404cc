/**
 * A hook's includeRegex, resolved to the finite set of tensor names it selects in a model's catalog,
 * once: when the endpoint is saved (a pattern that is invalid or does not finish is refused there), and
 * for a stored pattern the first time a process uses it. Requests then look names up in the set; no
 * user pattern runs on the request path. Resolutions are cached by model manifest and pattern.
 */
import type { Logger } from '../logger.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { LruCache } from './lru.ts';
import type { RegexGuard } from './regex-guard.ts';
import { regexCandidates, type TensorCatalog, tensorCatalog } from './tensor-names.ts';

const CACHED_SELECTIONS = 1024;

export class IncludeRegexResolver {
  readonly #selections = new LruCache<ReadonlySet<string>>(CACHED_SELECTIONS, Number.POSITIVE_INFINITY, () => 0);
  readonly #catalogs = new WeakMap<ModelManifest, { id: number; catalog: TensorCatalog }>();
  #nextId = 0;

  constructor(private readonly deps: { guard: RegexGuard; logger: Logger }) {}

  /** the names `pattern` selects in the model's catalog; ValidationError when it is invalid or does not finish */
  resolve(manifest: ModelManifest, pattern: string, field = 'debugHook.includeRegex'): Promise<ReadonlySet<string>> {
    const { id, catalog } = this.#catalog(manifest);
    return this.#selections.getOrCompute(`${id}\n${pattern}`, () => this.#match(catalog, pattern, field));
  }

  /**
   * The selection of a stored pattern, for the request path: cached after the first use. A stored
   * pattern that cannot be resolved (saved before patterns were checked) selects nothing, and says so
   * once in the log.
   */
  stored(manifest: ModelManifest, pattern: string): Promise<ReadonlySet<string>> {
    const { id, catalog } = this.#catalog(manifest);
    return this.#selections.getOrCompute(`${id}\n${pattern}`, () =>
      this.#match(catalog, pattern, 'debugHook.includeRegex').catch((error: unknown) => {
        this.deps.logger.warn('a stored includeRegex selects no tensors: it cannot be resolved', {
          pattern,
          model: manifest.name,
          error,
        });
        return new Set<string>();
      }),
    );
  }

  async #match(catalog: TensorCatalog, pattern: string, field: string): Promise<ReadonlySet<string>> {
    const matched = await this.deps.guard.matchFromStart(pattern, regexCandidates(catalog), field);
    return new Set(catalog.names.filter((_, i) => matched[i]));
  }

  #catalog(manifest: ModelManifest): { id: number; catalog: TensorCatalog } {
    let found = this.#catalogs.get(manifest);
    if (!found) this.#catalogs.set(manifest, (found = { id: this.#nextId++, catalog: tensorCatalog(manifest) }));
    return found;
  }
}
