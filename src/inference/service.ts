/**
 * predict: endpoint snapshot → decode + preprocess → the recorder's plan (is this a saved debug step)
 * → batcher (per model and graph) → softmax, top-k → the recorder: capture and debug rows in one group
 * commit → publish → answer. Nothing after the answer can lose the capture: the answer waits for its
 * commit.
 */
import type { PubSub } from 'graphql-yoga';
import type { EndpointService } from '../endpoints/service.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import type { EventMap } from '../pubsub/events.ts';
import { type BatcherOptions, DynamicBatcher } from './batcher.ts';
import { type DecodeLimits, type PreprocessSpec, prepareImage, writeNormalised } from './preprocess.ts';
import type { Recorder } from './recorder.ts';
import { softmax, topK } from './scores.ts';
import type { ImagePayload, Prediction } from './types.ts';

interface BatchItem {
  tensor: Float32Array;
  /** debug outputs to fetch; undefined = serving graph */
  fetch?: readonly string[] | undefined;
}

interface BatchResult {
  logits: Float32Array;
  outputs?: Map<string, { dims: readonly number[]; data: Float32Array }>;
  batchSize: number;
}

export interface InferenceServiceDeps {
  endpoints: EndpointService;
  models: ModelRegistry;
  /** captures and debugger steps */
  recorder: Recorder;
  pubsub: PubSub<EventMap>;
  limits: DecodeLimits;
  batch: BatcherOptions;
}

export class InferenceService {
  readonly #batchers = new Map<string, DynamicBatcher<BatchItem, BatchResult>>();

  constructor(private readonly deps: InferenceServiceDeps) {}

  async predict(endpointName: string, image: ImagePayload, k = 3): Promise<Prediction> {
    const started = performance.now();
    const endpoint = await this.deps.endpoints.snapshot(endpointName);
    const runtime = await this.deps.models.get(endpoint.model);
    const spec = specOf(runtime);
    const prepared = await prepareImage(image.bytes, spec, this.deps.limits);
    const tensor = new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]);
    writeNormalised(prepared.resized, spec, tensor);

    const plan = await this.deps.recorder.plan(endpoint, runtime.entry.manifest);
    const result = await this.#batcher(runtime, plan.fetch ? 'debug' : 'serving').submit({ tensor, fetch: plan.fetch });

    const probabilities = softmax(result.logits);
    const catalog = this.deps.models.catalog;
    const top = topK(probabilities, Math.max(k, 3)).map((s) => ({
      ...s,
      label: catalog.label(runtime.entry.name, s.classId),
    }));
    const best = top[0]!;
    const inferenceTime = new Date();

    const recorded = await this.deps.recorder.record(plan, {
      payload: { bytes: image.bytes, contentType: prepared.contentType },
      prediction: { top, probabilities, modelVersion: runtime.version, inferenceTime },
      tensors: result.outputs && {
        input: tensor,
        inputShape: [3, spec.inputSize[0], spec.inputSize[1]],
        outputs: result.outputs,
      },
    });

    const latencyMs = performance.now() - started;
    const prediction: Prediction = {
      endpoint: endpoint.name,
      predictedClass: best.classId,
      label: best.label,
      confidence: best.probability,
      top: top.slice(0, k),
      captureId: recorded.captureId,
      debugStep: recorded.debugStep,
      modelVersion: runtime.version,
      provider: runtime.provider,
      latencyMs,
      batchSize: result.batchSize,
    };
    this.deps.pubsub.publish('prediction', endpoint.name, {
      endpoint: endpoint.name,
      predictedClass: best.classId,
      label: best.label,
      confidence: best.probability,
      captureId: prediction.captureId,
      modelVersion: runtime.version,
      at: inferenceTime.toISOString(),
      latencyMs,
    });
    return prediction;
  }

  /** batch sizes formed so far, per model and graph */
  batchStats(): Record<string, number[]> {
    return Object.fromEntries([...this.#batchers].map(([key, b]) => [key, b.batchSizes]));
  }

  #batcher(runtime: ModelRuntime, graph: 'serving' | 'debug'): DynamicBatcher<BatchItem, BatchResult> {
    const key = `${runtime.entry.name}@${runtime.version}:${graph}`;
    let batcher = this.#batchers.get(key);
    if (!batcher) {
      batcher = new DynamicBatcher((items) => runBatch(runtime, graph, items), this.deps.batch);
      this.#batchers.set(key, batcher);
    }
    return batcher;
  }
}

export function specOf(runtime: ModelRuntime): PreprocessSpec {
  const m = runtime.entry.manifest;
  return { inputSize: m.inputSize, mean: m.mean, std: m.std };
}

async function runBatch(runtime: ModelRuntime, graph: 'serving' | 'debug', items: BatchItem[]): Promise<BatchResult[]> {
  const n = items.length;
  const per = items[0]!.tensor.length;
  const images = new Float32Array(n * per);
  items.forEach((item, i) => images.set(item.tensor, i * per));
  const classes = runtime.classCount;
  if (graph === 'serving') {
    const logits = await runtime.runServing(images, n);
    return items.map((_, i) => ({ logits: logits.subarray(i * classes, (i + 1) * classes), batchSize: n }));
  }
  const fetch = [...new Set(items.flatMap((item) => item.fetch ?? []))];
  const run = await runtime.runDebug(images, n, fetch);
  return items.map((item, i) => {
    const outputs = new Map<string, { dims: readonly number[]; data: Float32Array }>();
    for (const name of item.fetch ?? []) {
      const output = run.outputs.get(name)!;
      const size = output.data.length / n;
      outputs.set(name, { dims: output.dims.slice(1), data: output.data.subarray(i * size, (i + 1) * size) });
    }
    return { logits: run.logits.subarray(i * classes, (i + 1) * classes), outputs, batchSize: n };
  });
}
