/**
 * predict: endpoint snapshot → decode + preprocess → the recorder's plan (is this a saved debug step)
 * → batcher (per model and graph) → softmax, top-k → the recorder: capture and debug rows in one group
 * commit → publish → answer. Nothing after the answer can lose the capture: the answer waits for its
 * commit. A fault of the database on the way (unreachable, locked, full) rejects with
 * UnavailableError (db/faults.ts), never with a driver's error.
 *
 * A request's images are read from their headers before any is decoded: the RGB bytes the distinct
 * ones declare are bounded per request (MAX_REQUEST_DECODED_BYTES), and an image sent several times in
 * one request (one variable referenced by every item of a batch) is decoded once.
 */
import type { PubSub } from 'graphql-yoga';
import { unavailableOr } from '../db/faults.ts';
import type { EndpointService } from '../endpoints/service.ts';
import type { Endpoint } from '../endpoints/types.ts';
import { ValidationError } from '../errors.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import type { EventMap } from '../pubsub/events.ts';
import { type BatcherOptions, DynamicBatcher } from './batcher.ts';
import {
  type DecodeLimits,
  type ImageHeader,
  inspectImage,
  type PreparedImage,
  type PreprocessSpec,
  prepareImage,
  writeNormalised,
} from './preprocess.ts';
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
  /** per image, and `maxRequestDecodedBytes`: the RGB bytes of one request's distinct images */
  limits: DecodeLimits & { maxRequestDecodedBytes: number };
  batch: BatcherOptions;
}

export class InferenceService {
  readonly #batchers = new Map<string, DynamicBatcher<BatchItem, BatchResult>>();

  constructor(private readonly deps: InferenceServiceDeps) {}

  async predict(endpointName: string, image: ImagePayload, k = 3): Promise<Prediction> {
    const [settled] = await this.predictBatch(endpointName, [image], k, 'image');
    if (settled!.status === 'rejected') throw settled!.reason;
    return settled!.value;
  }

  /**
   * Several images of one request, each settled on its own (an image that cannot be read rejects with
   * InvalidImageError). The same payload object given twice is decoded once. NotFoundError for an
   * unknown endpoint; ValidationError when the distinct images decode to more than the request may;
   * UnavailableError, for the call or an item, when the database cannot be read or written.
   */
  async predictBatch(
    endpointName: string,
    images: readonly ImagePayload[],
    k = 3,
    field = 'images',
  ): Promise<PromiseSettledResult<Prediction>[]> {
    const started = performance.now();
    const endpoint = await this.deps.endpoints.snapshot(endpointName).catch(rethrowUnavailable);
    const runtime = await this.deps.models.get(endpoint.model);
    const spec = specOf(runtime);
    const headers = new Map<ImagePayload, Promise<ImageHeader>>();
    for (const image of images) if (!headers.has(image)) headers.set(image, inspectImage(image.bytes));
    const { maxPixels } = this.deps.limits;
    let decodedBytes = 0;
    for (const header of await Promise.allSettled(headers.values())) {
      if (header.status === 'rejected') continue;
      const size = header.value.dimensions;
      const pixels = size ? size.width * size.height : maxPixels;
      // one over the pixel limit is refused before decoding; one of unknown size stops decoding at the limit
      if (pixels <= maxPixels) decodedBytes += 3 * pixels;
    }
    const limit = this.deps.limits.maxRequestDecodedBytes;
    if (decodedBytes > limit) {
      throw new ValidationError(
        field,
        `the request's images decode to ${decodedBytes.toLocaleString('en')} bytes of pixels, over the limit of ${limit.toLocaleString('en')} (MAX_REQUEST_DECODED_BYTES): send fewer or smaller images per request`,
      );
    }
    const prepared = new Map<ImagePayload, Promise<PreparedImage>>();
    const prepare = (image: ImagePayload) => {
      let found = prepared.get(image);
      if (!found)
        prepared.set(
          image,
          (found = headers.get(image)!.then((header) => prepareImage(image.bytes, spec, this.deps.limits, header))),
        );
      return found;
    };
    return Promise.allSettled(
      images.map((image) =>
        this.#predictOne(started, endpoint, runtime, spec, image, prepare(image), k).catch(rethrowUnavailable),
      ),
    );
  }

  async #predictOne(
    started: number,
    endpoint: Endpoint,
    runtime: ModelRuntime,
    spec: PreprocessSpec,
    image: ImagePayload,
    preparing: Promise<PreparedImage>,
    k: number,
  ): Promise<Prediction> {
    const prepared = await preparing;
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

/** a database fault as UnavailableError; anything else as it was */
function rethrowUnavailable(error: unknown): never {
  throw unavailableOr(error);
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
