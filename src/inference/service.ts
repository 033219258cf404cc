/**
 * predict: endpoint snapshot → decode + preprocess → batcher (per model and graph) → softmax, top-k →
 * sampler → one group-committed write of the capture (and debug tensors) → publish → answer.
 * Nothing after the answer can lose the capture: the answer waits for its commit.
 */
import { randomUUID } from 'node:crypto';
import type { PubSub } from 'graphql-yoga';
import { shouldCapture, type RandomSource } from '../capture/sampler.ts';
import type { CapturedOutput, CaptureRecord } from '../capture/types.ts';
import type { CaptureWriter, DebugRows } from '../capture/writer.ts';
import type { DebugHook } from '../debugger/hook.ts';
import { tensorCatalog, type TensorCatalog } from '../debugger/tensor-names.ts';
import type { EndpointService } from '../endpoints/service.ts';
import type { Endpoint } from '../endpoints/types.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import type { EventMap } from '../pubsub/events.ts';
import { DynamicBatcher, type BatcherOptions } from './batcher.ts';
import { prepareImage, writeNormalised, type DecodeLimits, type PreparedImage, type PreprocessSpec } from './preprocess.ts';
import { softmax, topK } from './scores.ts';
import type { ImagePayload, Prediction } from './types.ts';

interface BatchItem {
  tensor: Float32Array;
  /** debug outputs to fetch; undefined = serving graph */
  fetch?: readonly string[];
}

interface BatchResult {
  logits: Float32Array;
  outputs?: Map<string, { dims: readonly number[]; data: Float32Array }>;
  batchSize: number;
}

export interface InferenceServiceDeps {
  endpoints: EndpointService;
  models: ModelRegistry;
  writer: CaptureWriter;
  hook: DebugHook;
  pubsub: PubSub<EventMap>;
  limits: DecodeLimits;
  batch: BatcherOptions;
  random?: RandomSource;
}

export class InferenceService {
  readonly #batchers = new Map<string, DynamicBatcher<BatchItem, BatchResult>>();
  readonly #catalogs = new WeakMap<ModelRuntime, TensorCatalog>();

  constructor(private readonly deps: InferenceServiceDeps) {}

  async predict(endpointName: string, image: ImagePayload, k = 3): Promise<Prediction> {
    const started = performance.now();
    const endpoint = await this.deps.endpoints.snapshot(endpointName);
    const runtime = await this.deps.models.get(endpoint.model);
    const spec = specOf(runtime);
    const prepared = await prepareImage(image.bytes, spec, this.deps.limits);
    const tensor = new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]);
    writeNormalised(prepared.resized, spec, tensor);

    const catalog = this.#catalog(runtime);
    const plan = await this.deps.hook.plan(endpoint, catalog);
    const result = await this.#batcher(runtime, plan ? 'debug' : 'serving').submit({ tensor, fetch: plan?.fetch });

    const probabilities = softmax(result.logits);
    const labels = runtime.entry.labels;
    const top = topK(probabilities, Math.max(k, 3)).map((s) => ({ ...s, label: labels[s.classId] ?? String(s.classId) }));
    const best = top[0]!;
    const inferenceTime = new Date();

    const capture = shouldCapture(endpoint.dataCapture, this.deps.random)
      ? captureRecord(endpoint, runtime, image, prepared, probabilities, top, inferenceTime)
      : null;
    const debug: DebugRows | undefined = plan
      ? await this.deps.hook.rows(endpoint, plan, capture?.id ?? null, catalog, {
          input: tensor,
          inputShape: [3, spec.inputSize[0], spec.inputSize[1]],
          outputs: result.outputs!,
        })
      : undefined;
    if (capture || debug) await this.deps.writer.write({ capture, debug });

    const latencyMs = performance.now() - started;
    const prediction: Prediction = {
      endpoint: endpoint.name,
      predictedClass: best.classId,
      label: best.label,
      confidence: best.probability,
      top: top.slice(0, k),
      captureId: capture?.id ?? null,
      debugStep: plan?.step ?? null,
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

  #catalog(runtime: ModelRuntime): TensorCatalog {
    let catalog = this.#catalogs.get(runtime);
    if (!catalog) this.#catalogs.set(runtime, (catalog = tensorCatalog(runtime.entry.manifest)));
    return catalog;
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

function captureRecord(
  endpoint: Endpoint,
  runtime: ModelRuntime,
  image: ImagePayload,
  prepared: PreparedImage,
  probabilities: Float64Array,
  top: { classId: number; probability: number; label: string }[],
  inferenceTime: Date,
): CaptureRecord {
  const mode = endpoint.dataCapture.captureMode;
  const withInput = mode !== 'OUTPUT';
  const withOutput = mode !== 'INPUT';
  const output: CapturedOutput = {
    predictedClass: top[0]!.classId,
    label: top[0]!.label,
    confidence: top[0]!.probability,
    probabilities: Array.from(probabilities, (p) => Math.round(p * 1e7) / 1e7),
  };
  return {
    id: randomUUID(),
    endpointId: endpoint.id,
    eventId: randomUUID(),
    inferenceTime,
    modelVersion: runtime.version,
    inputData: withInput ? image.bytes : null,
    inputContentType: withInput ? prepared.contentType : null,
    output: withOutput ? JSON.stringify(output) : null,
    predictedClass: withOutput ? top[0]!.classId : null,
    confidence: withOutput ? top[0]!.probability : null,
    top2Class: withOutput ? top[1]?.classId ?? null : null,
    top2Score: withOutput ? top[1]?.probability ?? null : null,
    top3Class: withOutput ? top[2]?.classId ?? null : null,
    top3Score: withOutput ? top[2]?.probability ?? null : null,
  };
}
