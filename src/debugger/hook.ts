/**
 * The debugger hook on the request path: numbers each request to a hook-enabled endpoint as a step,
 * decides whether the step is saved (every saveInterval-th, as smdebug's save_interval), which debug
 * outputs to fetch, and turns one image's outputs into its step's rows (step-rows.ts), written with its
 * capture.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/prisma.ts';
import type { Endpoint } from '../endpoints/types.ts';
import type { TensorEncoding } from './encoding.ts';
import type { StepEncoder } from './step-encoder.ts';
import type { StepRows } from './step-rows.ts';
import { selectTensors, type TensorCatalog, type TensorSource } from './tensor-names.ts';

export interface StepPlan {
  step: number;
  /** tensor names to save */
  names: string[];
  /** debug-graph outputs the run must fetch for them */
  fetch: string[];
}

export interface ImageTensors {
  /** the preprocessed image, [3,H,W] */
  input: Float32Array;
  inputShape: readonly number[];
  /** this image's slice of each fetched output, shapes without the batch dimension */
  outputs: Map<string, { dims: readonly number[]; data: Float32Array }>;
}

interface StepTensor {
  name: string;
  source: TensorSource;
  values: Float32Array;
  shape: readonly number[];
}

/**
 * Step numbers are taken from the endpoint's counter a block at a time: one atomic increment per
 * block keeps them unique across replicas, and requests do not each wait for a database write before
 * they can join a batch. Within a process they are consecutive; numbers left in a block when the process
 * stops are skipped, and two replicas' steps interleave by block.
 */
export const STEP_BLOCK = 32;

export class DebugHook {
  readonly #blocks = new Map<string, { next: number; end: number }>();
  readonly #reserving = new Map<string, Promise<void>>();

  constructor(
    private readonly prisma: Db,
    private readonly encoder: StepEncoder,
    /** activations and gradients; the input is stored exactly (f32-deflate), constants and logits as f32 */
    readonly encoding: TensorEncoding = 'f16-sparse-split',
  ) {}

  /**
   * null when the hook is off or this step is not saved (the request then runs the serving graph).
   * `included`: the names the endpoint's includeRegex selects (include-regex.ts), null without one.
   */
  async plan(
    endpoint: Endpoint,
    catalog: TensorCatalog,
    included: ReadonlySet<string> | null,
  ): Promise<StepPlan | null> {
    const hook = endpoint.debugHook;
    if (!hook.enabled) return null;
    const step = await this.#nextStep(endpoint.id);
    if (step % hook.saveInterval !== 0) return null;
    const names = withAlwaysSaved(catalog, selectTensors(catalog, { included, collections: hook.collections }));
    const fetch = [
      ...new Set(
        names.flatMap((n) => {
          const source = catalog.sources.get(n);
          return source?.kind === 'output' ? [source.output] : [];
        }),
      ),
    ];
    return { step, names, fetch };
  }

  async #nextStep(endpointId: string): Promise<number> {
    for (;;) {
      const block = this.#blocks.get(endpointId);
      if (block && block.next < block.end) return block.next++;
      let reserving = this.#reserving.get(endpointId);
      if (!reserving) {
        reserving = this.#reserve(endpointId).finally(() => this.#reserving.delete(endpointId));
        this.#reserving.set(endpointId, reserving);
      }
      await reserving;
    }
  }

  async #reserve(endpointId: string): Promise<void> {
    const { hookStepCounter } = await this.prisma.endpoint.update({
      where: { id: endpointId },
      data: { hookStepCounter: { increment: STEP_BLOCK } },
      select: { hookStepCounter: true },
    });
    this.#blocks.set(endpointId, { next: hookStepCounter - STEP_BLOCK, end: hookStepCounter });
  }

  /** the step's rows: its tensors encoded on the encoder thread (their buffers are handed over) */
  async rows(
    endpoint: Endpoint,
    plan: StepPlan,
    captureId: string | null,
    catalog: TensorCatalog,
    image: ImageTensors,
  ): Promise<StepRows> {
    const stepId = randomUUID();
    const tensors = plan.names.flatMap((name): StepTensor[] => {
      const source = catalog.sources.get(name)!;
      if (source.kind === 'input') return [{ name, source, values: image.input, shape: image.inputShape }];
      // a fresh array every step: its buffer is handed over to the encoder thread
      if (source.kind === 'constant')
        return [{ name, source, values: Float32Array.from(source.values), shape: [source.values.length] }];
      const output = image.outputs.get(source.output);
      return output ? [{ name, source, values: output.data, shape: output.dims }] : [];
    });
    const encodings = tensors.map((t) => encodingOf(t.name, t.source.kind, this.encoding));
    const blobs = await this.encoder.encode(tensors.map((t, i) => ({ values: t.values, encoding: encodings[i]! })));
    const rows = tensors.map((t, i) => ({
      id: randomUUID(),
      stepId,
      name: t.name,
      // per-request tensors carry the batch dimension (1), as smdebug saved them; constants do not
      shape: JSON.stringify(t.source.kind === 'constant' ? t.shape : [1, ...t.shape]),
      dtype: 'float32',
      encoding: encodings[i]!,
      data: blobs[i]!,
    }));
    return {
      step: { id: stepId, endpointId: endpoint.id, step: plan.step, mode: 'PREDICT', captureId, createdAt: new Date() },
      tensors: rows,
    };
  }
}

/**
 * Tensors saved with every step, whatever the configuration selects: `logits` (43 floats, 172 bytes).
 * The completeness check compares the FullGrad decomposition with the explained class's logit, and a
 * capture stores probabilities, not logits (softmax loses the logits' common offset), so without this
 * the check could not run on steps saved with the write-up's regex, which does not match `logits`.
 */
export const ALWAYS_SAVED = ['logits'] as const;

function withAlwaysSaved(catalog: TensorCatalog, names: string[]): string[] {
  const extra = ALWAYS_SAVED.filter((n) => catalog.sources.has(n) && !names.includes(n));
  if (!extra.length) return names;
  const chosen = new Set([...names, ...extra]);
  return catalog.names.filter((n) => chosen.has(n));
}

/**
 * Constants (biases) and logits: f32, tiny, and the completeness check wants them exact. The input:
 * f32-deflate — exact at ~3 KB more than f16 (its values are 256 levels per channel, which deflate finds),
 * and an f16 input shifts Σ input·input_grad systematically on flat images (residual up to 9e-4 on the
 * grey fixture; ~2e-5 with it exact). Activations and gradients: the hook's lossy default.
 */
export function encodingOf(name: string, kind: 'input' | 'output' | 'constant', lossy: TensorEncoding): TensorEncoding {
  if (kind === 'constant' || name === 'logits') return 'f32';
  if (kind === 'input') return 'f32-deflate';
  return lossy;
}
