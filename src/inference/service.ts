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
 *
 * Admission: the images waiting for a model run (decoding, planning, in a batcher's queue) are bounded
 * by MAX_QUEUED_IMAGES per process. A request whose images do not fit is refused at once with
 * UNAVAILABLE (503, Retry-After: the time the queue ahead takes at the measured run rate), before
 * anything is decoded; a request larger than the bound is admitted into an empty queue only. A request's
 * AbortSignal (its client disconnected) drops its images before decoding, before planning and while
 * queued for a batch; work already run is still recorded.
 */
import type { PubSub } from 'graphql-yoga';
import { unavailableOr } from '../db/faults.ts';
import type { EndpointService } from '../endpoints/service.ts';
import type { Endpoint } from '../endpoints/types.ts';
import { UnavailableError, ValidationError } from '../errors.ts';
import { Histogram, SECONDS_BUCKETS } from '../histogram.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import type { EventMap } from '../pubsub/events.ts';
import { type BatcherOptions, clientGone, DynamicBatcher } from './batcher.ts';
import { imageStats } from './image-stats.ts';
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
  /** the serving graph's features of this image (absent for the debug graph, or a model without them) */
  features?: Float32Array | undefined;
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
  /** images admitted and not yet in a model run, at most (MAX_QUEUED_IMAGES; default 256) */
  maxQueuedImages?: number;
  /** what an endpoint's outlier scores compare with (the monitor's input references); none: no scores */
  outliers?: OutlierReferences;
}

/** scores an image's features against an endpoint's reference inputs */
export interface OutlierReferences {
  /** the endpoint's scorer; null when it has no reference with features (kept in memory: cheap per call) */
  scorer(endpointId: string): Promise<((features: Float32Array) => number) | null>;
}

export interface PredictOptions {
  /** the request's signal: when its client disconnects, images not yet run are dropped */
  signal?: AbortSignal | undefined;
}

/** one batcher's state, for /metrics */
export interface BatcherStats {
  model: string;
  graph: 'serving' | 'debug';
  queued: number;
  /** images per run */
  sizes: Histogram;
  /** seconds per run */
  seconds: Histogram;
}

/** images per run: powers of two up to the largest predictBatch */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

interface Batcher {
  batcher: DynamicBatcher<BatchItem, BatchResult>;
  stats: BatcherStats;
}

export class InferenceService {
  readonly #batchers = new Map<string, Batcher>();
  /** images admitted that have not reached a batcher's queue yet (decoding, planning) */
  #admitted = 0;
  /** images refused at admission, in all */
  shedImages = 0;
  readonly maxQueuedImages: number;

  constructor(private readonly deps: InferenceServiceDeps) {
    this.maxQueuedImages = deps.maxQueuedImages ?? 256;
  }

  /** images admitted and not yet in a model run */
  get queuedImages(): number {
    let queued = this.#admitted;
    for (const { batcher } of this.#batchers.values()) queued += batcher.queued;
    return queued;
  }

  batchers(): Iterable<BatcherStats> {
    return [...this.#batchers.values()].map((b) => ({ ...b.stats, queued: b.batcher.queued }));
  }

  async predict(endpointName: string, image: ImagePayload, k = 3, options: PredictOptions = {}): Promise<Prediction> {
    const [settled] = await this.predictBatch(endpointName, [image], k, { ...options, field: 'image' });
    if (settled!.status === 'rejected') throw settled!.reason;
    return settled!.value;
  }

  /** takes `count` images into the queue, or refuses the whole request */
  #admit(count: number): void {
    const queued = this.queuedImages;
    if (queued > 0 && queued + count > this.maxQueuedImages) {
      this.shedImages += count;
      let perImage = 0;
      for (const { batcher } of this.#batchers.values()) perImage = Math.max(perImage, batcher.secondsPerItem);
      const retryAfter = Math.min(30, Math.max(1, Math.ceil(queued * (perImage || 0.01))));
      throw new UnavailableError(
        `the server holds ${queued} images waiting for the model (MAX_QUEUED_IMAGES is ${this.maxQueuedImages}): retry after ${retryAfter} s`,
        retryAfter,
      );
    }
    this.#admitted += count;
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
    options: PredictOptions & { field?: string } = {},
  ): Promise<PromiseSettledResult<Prediction>[]> {
    const started = performance.now();
    const { signal, field = 'images' } = options;
    const endpoint = await this.deps.endpoints.snapshot(endpointName).catch(rethrowUnavailable);
    const runtime = await this.deps.models.get(endpoint.model);
    const spec = specOf(runtime);
    if (signal?.aborted) throw clientGone();
    this.#admit(images.length);
    // each image gives its place back once, when it reaches a batcher's queue or fails before
    let unreleased = images.length;
    const release = () => {
      if (unreleased > 0) {
        unreleased--;
        this.#admitted--;
      }
    };
    try {
      return await this.#predictAdmitted(started, endpoint, runtime, spec, images, k, field, signal, release);
    } finally {
      this.#admitted -= unreleased;
      unreleased = 0;
    }
  }

  async #predictAdmitted(
    started: number,
    endpoint: Endpoint,
    runtime: ModelRuntime,
    spec: PreprocessSpec,
    images: readonly ImagePayload[],
    k: number,
    field: string,
    signal: AbortSignal | undefined,
    release: () => void,
  ): Promise<PromiseSettledResult<Prediction>[]> {
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
    if (signal?.aborted) throw clientGone();
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
        this.#predictOne(started, endpoint, runtime, spec, image, prepare(image), k, signal, release).catch(
          rethrowUnavailable,
        ),
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
    signal: AbortSignal | undefined,
    release: () => void,
  ): Promise<Prediction> {
    let submitted: Promise<BatchResult>;
    let prepared: PreparedImage;
    let plan: Awaited<ReturnType<Recorder['plan']>>;
    let tensor: Float32Array;
    try {
      prepared = await preparing;
      tensor = new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]);
      writeNormalised(prepared.resized, spec, tensor);
      if (signal?.aborted) throw clientGone();
      plan = await this.deps.recorder.plan(endpoint, runtime.entry.manifest);
      this.deps.recorder.admit(plan);
      // from here the batcher's queue counts this image
      submitted = this.#batcher(runtime, plan.fetch ? 'debug' : 'serving').submit(
        { tensor, fetch: plan.fetch },
        signal,
      );
    } finally {
      release();
    }
    const [result, scorer] = await Promise.all([submitted, outlierScorer(this.deps.outliers, endpoint.id, runtime)]);
    const features = result.features ?? null;
    const outlierScore = features && scorer ? scorer(features) : null;

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
      measured: { features, imageStats: imageStats(prepared.resized, prepared.width, prepared.height), outlierScore },
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
      eventId: recorded.eventId,
      debugStep: recorded.debugStep,
      modelVersion: runtime.version,
      provider: runtime.provider,
      outlierScore,
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
      outlierScore,
    });
    return prediction;
  }

  /** batch sizes formed so far, per model and graph */
  batchStats(): Record<string, number[]> {
    return Object.fromEntries([...this.#batchers].map(([key, b]) => [key, b.batcher.batchSizes]));
  }

  #batcher(runtime: ModelRuntime, graph: 'serving' | 'debug'): DynamicBatcher<BatchItem, BatchResult> {
    const key = `${runtime.entry.name}@${runtime.version}:${graph}`;
    let found = this.#batchers.get(key);
    if (!found) {
      const stats: BatcherStats = {
        model: runtime.entry.name,
        graph,
        queued: 0,
        sizes: new Histogram(BATCH_SIZE_BUCKETS),
        seconds: new Histogram(SECONDS_BUCKETS),
      };
      const batcher = new DynamicBatcher<BatchItem, BatchResult>((items) => runBatch(runtime, graph, items), {
        ...this.deps.batch,
        onRun: (size, seconds) => {
          stats.sizes.observe(size);
          stats.seconds.observe(seconds);
        },
      });
      found = { batcher, stats };
      this.#batchers.set(key, found);
    }
    return found.batcher;
  }
}

/** the endpoint's outlier scorer when the model has features to score (looked up while the model runs) */
async function outlierScorer(
  outliers: OutlierReferences | undefined,
  endpointId: string,
  runtime: ModelRuntime,
): Promise<((features: Float32Array) => number) | null> {
  if (!outliers || runtime.featureSize === 0) return null;
  return outliers.scorer(endpointId);
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
    const { logits, features } = await runtime.runServingWithFeatures(images, n);
    const width = runtime.featureSize;
    return items.map((_, i) => ({
      logits: logits.subarray(i * classes, (i + 1) * classes),
      features: features?.subarray(i * width, (i + 1) * width),
      batchSize: n,
    }));
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
