/**
 * Loaded models by name: each is loaded once (on first use, or ahead of time by `prepare`) and shared
 * by every endpoint that serves it.
 */
import type { InferenceDevice, SessionTuning } from '../config.ts';
import { NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ModelCatalog } from './catalog.ts';
import type { Provider } from './providers.ts';
import { ModelRuntime } from './runtime.ts';

export class ModelRegistry {
  readonly #loaded = new Map<string, Promise<ModelRuntime>>();
  /** the runtimes whose load has finished, for reads that must not start one */
  readonly #ready = new Map<string, ModelRuntime>();

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
        return Promise.reject(
          new NotFoundError(
            'Model',
            name,
            `Model '${name}' does not exist: available models are ${known.join(', ') || '(none)'}`,
          ),
        );
      }
      const started = ModelRuntime.load(entry, this.device, this.logger, this.tuning);
      started.then(
        (runtime) => {
          if (this.#loaded.get(name) === started) this.#ready.set(name, runtime);
        },
        () => this.#loaded.delete(name),
      );
      this.#loaded.set(name, started);
      loading = started;
    }
    return loading;
  }

  /** the execution provider of a model already loaded; null when it is not (nothing is loaded) */
  providerIfLoaded(name: string): Provider | null {
    return this.#ready.get(name)?.provider ?? null;
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
    this.#ready.clear();
  }
}
