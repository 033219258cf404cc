/**
 * One loaded model: its serving session, opened at load, and its debug session (forward + explicit
 * backward, for the debugger hook), opened on first use. Sessions are created from file paths so
 * onnxruntime finds the shared external weights (weights.bin) beside them.
 */
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { InferenceDevice, SessionTuning } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { ModelEntry } from './catalog.ts';
import { openWithProvider, type Provider, type ProviderChoice } from './providers.ts';

export interface DebugRun {
  logits: Float32Array;
  /** requested debug outputs by name, each [N, …] */
  outputs: Map<string, { dims: readonly number[]; data: Float32Array }>;
}

export class ModelRuntime {
  #debug: Promise<ort.InferenceSession> | undefined;

  private constructor(
    readonly entry: ModelEntry,
    readonly serving: ort.InferenceSession,
    readonly choice: ProviderChoice,
    private readonly tuning: SessionTuning,
  ) {}

  static async load(
    entry: ModelEntry,
    device: InferenceDevice,
    logger: Logger,
    tuning: SessionTuning = {},
  ): Promise<ModelRuntime> {
    const file = path.join(entry.dir, servingFile(entry));
    const opened = await openWithProvider(device, (provider) => createSession(file, provider, tuning), logger);
    logger.info(`model ${entry.name} loaded on ${opened.provider}`, { version: entry.manifest.version });
    return new ModelRuntime(entry, opened.value, { provider: opened.provider, skipped: opened.skipped }, tuning);
  }

  get provider(): Provider {
    return this.choice.provider;
  }

  get version(): string {
    return this.entry.manifest.version;
  }

  get classCount(): number {
    return this.entry.manifest.classCount;
  }

  /** image batch [n,3,H,W] → logits [n,classes] (only the logits are fetched) */
  async runServing(images: Float32Array, n: number): Promise<Float32Array> {
    const [h, w] = this.entry.manifest.inputSize;
    const input = new ort.Tensor('float32', images, [n, 3, h, w]);
    const names = servingNames(this.entry);
    const result = await this.serving.run({ [names.input]: input }, [names.output]);
    return float32(result[names.output]);
  }

  /**
   * image batch [n,3,H,W] → logits [n,classes] and, when the graph has them, the features
   * [n,featureSize] of the same run (null otherwise): one run, the same logits as runServing
   */
  async runServingWithFeatures(
    images: Float32Array,
    n: number,
  ): Promise<{ logits: Float32Array; features: Float32Array | null }> {
    const [h, w] = this.entry.manifest.inputSize;
    const input = new ort.Tensor('float32', images, [n, 3, h, w]);
    const names = servingNames(this.entry);
    if (!names.features) return { logits: await this.runServing(images, n), features: null };
    const result = await this.serving.run({ [names.input]: input }, [names.output, names.features]);
    return { logits: float32(result[names.output]), features: float32(result[names.features]) };
  }

  /** values per image of the serving graph's features output; 0 when it has none */
  get featureSize(): number {
    return this.entry.manifest.serving.features ? this.entry.manifest.serving.featureSize : 0;
  }

  /**
   * The debug graph, fetching only `fetch` besides logits. `seed` [n,classes] selects the combination of
   * logits the gradients are of; by default all zero (= each image's predicted class).
   */
  async runDebug(
    images: Float32Array,
    n: number,
    fetch: readonly string[],
    seed = new Float32Array(n * this.classCount),
  ): Promise<DebugRun> {
    const session = await this.debugSession();
    const [h, w] = this.entry.manifest.inputSize;
    const feeds = {
      image: new ort.Tensor('float32', images, [n, 3, h, w]),
      grad_seed: new ort.Tensor('float32', seed, [n, this.classCount]),
    };
    const names = ['logits', ...fetch.filter((f) => f !== 'logits')];
    const result = await session.run(feeds, names);
    const outputs = new Map<string, { dims: readonly number[]; data: Float32Array }>();
    for (const name of fetch) outputs.set(name, { dims: result[name]?.dims ?? [], data: float32(result[name]) });
    return { logits: float32(result.logits), outputs };
  }

  /**
   * The debug graph with an explicit seed: `seed` [n,classes] selects, per image, the linear combination
   * of logits whose gradient with respect to the input comes back (`inputGrad`, [n,3,H,W]); only the
   * logits and that gradient are fetched. An all-zero row means the predicted class.
   */
  async runInputGradient(
    images: Float32Array,
    n: number,
    seed: Float32Array,
  ): Promise<{ logits: Float32Array; inputGrad: Float32Array }> {
    const session = await this.debugSession();
    const [h, w] = this.entry.manifest.inputSize;
    const result = await session.run(
      {
        image: new ort.Tensor('float32', images, [n, 3, h, w]),
        grad_seed: new ort.Tensor('float32', seed, [n, this.classCount]),
      },
      ['logits', 'input_grad'],
    );
    return { logits: float32(result.logits), inputGrad: float32(result.input_grad) };
  }

  debugSession(): Promise<ort.InferenceSession> {
    const { debug } = this.entry.manifest;
    if (!debug) return Promise.reject(new Error(`model ${this.entry.name} has no debug graph`));
    this.#debug ??= createSession(path.join(this.entry.dir, debug.file), this.provider, this.tuning);
    return this.#debug;
  }

  async release(): Promise<void> {
    await this.serving.release();
    if (this.#debug) await (await this.#debug).release();
  }
}

function servingFile(entry: ModelEntry): string {
  return entry.manifest.serving.file;
}

function servingNames(entry: ModelEntry): ModelEntry['manifest']['serving'] {
  return entry.manifest.serving;
}

/** an output's values: every output of vigil's graphs is float32 */
function float32(tensor: ort.Tensor | undefined): Float32Array {
  if (!(tensor?.data instanceof Float32Array))
    throw new Error(`expected a float32 output, got ${tensor ? tensor.type : 'none'}`);
  return tensor.data;
}

function createSession(file: string, provider: Provider, tuning: SessionTuning): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(tuning.threads ? { intraOpNumThreads: tuning.threads } : {}),
    extra: { session: { intra_op: { allow_spinning: tuning.spinWait ? '1' : '0' } } },
  });
}
