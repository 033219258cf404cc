/**
 * Loaded models by name: each is loaded once (on first use, or ahead of time by `prepare`) and shared
 * by every endpoint that serves it.
 */
import type { InferenceDevice, SessionTuning } from '../config.ts';
import { NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ModelCatalog } from './catalog.ts';
import { ModelRuntime } from './runtime.ts';

export class ModelRegistry {
  readonly #loaded = new Map<string, Promise<ModelRuntime>>();

  constructor(
    readonly catalog: ModelCatalog,
    private readonly device: InferenceDevice,
    private readonly logger: Logger,
    private readonly tuning: SessionTuning = {},
  ) {}

  /** the runtime of a model, loading it on first use; NotFoundError for an unknown model */
  get(name: string): Promise<ModelRuntime> {
    let loading = this.#loaded.get(name);
    if (!loading) {
      const entry = this.catalog.get(name);
      if (!entry) {
        const known = this.catalog.list().map((m) => m.name);
        return Promise.reject(new NotFoundError('Model', name, `Model '${name}' does not exist: available models are ${known.join(', ') || '(none)'}`));
      }
      loading = ModelRuntime.load(entry, this.device, this.logger, this.tuning);
      loading.catch(() => this.#loaded.delete(name));
      this.#loaded.set(name, loading);
    }
    return loading;
  }

  async prepare(name: string): Promise<void> {
    await this.get(name);
  }

  /** the models loaded so far */
  async loaded(): Promise<ModelRuntime[]> {
    const settled = await Promise.allSettled(this.#loaded.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  async close(): Promise<void> {
    for (const runtime of await this.loaded()) await runtime.release();
    this.#loaded.clear();
  }
}
