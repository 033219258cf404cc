/** `predict`, `predictBatch`, the `predictions` live stream, and where models run. */
import { ClassScoreRef, OUTLIER_SCORE_DESCRIPTION } from '../capture/schema.ts';
import type { Services } from '../context.ts';
import { unavailableOr } from '../db/faults.ts';
import { EndpointRef } from '../endpoints/schema.ts';
import { InvalidImageError, NotFoundError, UnavailableError, ValidationError } from '../errors.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import { builder } from '../schema/builder.ts';
import { topLevelError } from '../schema/errors.ts';
import { ServerInfoRef } from '../schema/server-info.ts';
import { readImageInput, readImageInputs } from './image-input.ts';
import type { Prediction, PredictionEvent } from './types.ts';

/** images one predictBatch call may hold */
export const MAX_BATCH_IMAGES = 256;

export const PredictionRef = builder.objectRef<Prediction>('Prediction').implement({
  description: "The model's answer for one image",
  fields: (t) => ({
    endpoint: t.exposeString('endpoint'),
    predictedClass: t.exposeInt('predictedClass'),
    label: t.exposeString('label'),
    confidence: t.exposeFloat('confidence', { description: 'softmax probability of the predicted class' }),
    top: t.field({ type: [ClassScoreRef], description: 'the topK best classes, best first', resolve: (p) => p.top }),
    captureId: t.id({
      nullable: true,
      description: 'null when this request was not sampled',
      resolve: (p) => p.captureId,
    }),
    eventId: t.string({
      nullable: true,
      description:
        "the capture's event id, by which putGroundTruth and POST /ground-truth name it (null when not sampled)",
      resolve: (p) => p.eventId,
    }),
    debugStep: t.int({
      nullable: true,
      description: 'the debugger-hook step saved for this request',
      resolve: (p) => p.debugStep,
    }),
    modelVersion: t.exposeString('modelVersion'),
    provider: t.exposeString('provider', { description: 'the onnxruntime execution provider that ran it' }),
    outlierScore: t.exposeFloat('outlierScore', {
      nullable: true,
      description: OUTLIER_SCORE_DESCRIPTION,
    }),
    latencyMs: t.exposeFloat('latencyMs', { description: 'server-side time from request to answer' }),
    batchSize: t.exposeInt('batchSize', { description: 'images in the onnxruntime run that served it' }),
  }),
});

export const ImageInput = builder.inputType('ImageInput', {
  description: 'One image, as exactly one of: a multipart file, base64 image bytes, or base64 of a .npy array',
  isOneOf: true,
  fields: (t) => ({
    file: t.field({ type: 'File', description: 'a multipart upload (PNG, JPEG, WebP, PPM or .npy)' }),
    base64: t.string({ description: 'base64 of PNG, JPEG, WebP or PPM bytes; a data: URL of them is accepted too' }),
    npy: t.string({ description: "base64 of a NumPy .npy uint8 H×W×3 array (the write-up's client payload)" }),
  }),
});

const predictArgs = builder.args((t) => ({
  endpoint: t.string({ required: true }),
  topK: t.int({
    defaultValue: 3,
    description: "how many classes `top` lists: 1 to the model's class count (43 for the bundled model)",
  }),
}));

interface PredictBatch {
  /** every item settled: a prediction, or an InvalidImageError (anything else failed the whole call) */
  settled: PromiseSettledResult<Prediction>[];
}

const PredictBatchRef = builder.objectRef<PredictBatch>('PredictBatch').implement({
  description: 'The answers to a predictBatch call, in the order of its images; each succeeds or fails on its own',
  fields: (t) => ({
    predictions: t.field({
      type: [PredictionRef],
      description: 'one per image: its prediction, or why it could not be read',
      itemErrors: { types: [InvalidImageError], union: { name: 'PredictBatchItem' } },
      // a failed item becomes a rejection only here, where the errors plugin handles it at once
      resolve: (b) => b.settled.map((s) => (s.status === 'fulfilled' ? s.value : Promise.reject(s.reason))),
    }),
  }),
});

builder.mutationFields((t) => ({
  predict: t.field({
    type: PredictionRef,
    description:
      'Classifies one image; when the endpoint samples the request, the answer waits for its capture to commit',
    errors: { types: [NotFoundError, ValidationError, InvalidImageError, UnavailableError] },
    args: { ...predictArgs, image: t.arg({ type: ImageInput, required: true }) },
    resolve: async (_root, args, { services, signal }) => {
      const k = await checkTopK(services, args.endpoint, args.topK);
      return services.inference.predict(args.endpoint, await readImageInput(args.image), k, { signal });
    },
  }),
  predictBatch: t.field({
    type: PredictBatchRef,
    description: `Several images (1–${MAX_BATCH_IMAGES}) in one request; answered once every sampled capture has committed`,
    errors: { types: [NotFoundError, ValidationError, UnavailableError] },
    args: { ...predictArgs, images: t.arg({ type: [ImageInput], required: true }) },
    resolve: async (_root, args, { services, signal }) => {
      if (args.images.length === 0 || args.images.length > MAX_BATCH_IMAGES) {
        throw new ValidationError('images', `images must hold 1–${MAX_BATCH_IMAGES} items, got ${args.images.length}`);
      }
      const k = await checkTopK(services, args.endpoint, args.topK);
      // Every item settles before the answer, whatever the client selected: an acknowledged batch is a
      // committed batch, and no item's failure is left unobserved. Identical inputs are read and decoded once.
      const reads = await Promise.allSettled(readImageInputs(args.images));
      const predicted = await services.inference.predictBatch(
        args.endpoint,
        reads.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
        k,
        { signal },
      );
      let next = 0;
      const settled = reads.map(
        (read): PromiseSettledResult<Prediction> => (read.status === 'fulfilled' ? predicted[next++]! : read),
      );
      const unexpected = settled.find((s) => s.status === 'rejected' && !(s.reason instanceof InvalidImageError));
      if (unexpected?.status === 'rejected') throw unexpected.reason;
      return { settled };
    },
  }),
}));

/** topK within 1 … the endpoint's model's class count (NotFoundError for an unknown endpoint) */
async function checkTopK(services: Services, endpointName: string, k: number | null | undefined): Promise<number> {
  const endpoint = await services.endpoints.snapshot(endpointName).catch((error: unknown) => {
    throw unavailableOr(error);
  });
  const classes = services.models.get(endpoint.model)?.labels.length ?? 1;
  const value = k ?? 3;
  if (!Number.isInteger(value) || value < 1 || value > classes) {
    throw new ValidationError(
      'topK',
      `topK must be from 1 to ${classes} (the classes of model ${endpoint.model}), got ${value}`,
    );
  }
  return value;
}

const PredictionEventRef = builder.objectRef<PredictionEvent>('PredictionEvent').implement({
  description: 'A prediction an endpoint served, as published to subscribers',
  fields: (t) => ({
    endpoint: t.exposeString('endpoint'),
    predictedClass: t.exposeInt('predictedClass'),
    label: t.exposeString('label'),
    confidence: t.exposeFloat('confidence'),
    captureId: t.id({ nullable: true, resolve: (e) => e.captureId }),
    modelVersion: t.exposeString('modelVersion'),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    latencyMs: t.exposeFloat('latencyMs'),
    outlierScore: t.exposeFloat('outlierScore', {
      nullable: true,
      description: "as on Prediction: in units of the endpoint's reference's 99th percentile; null without one",
    }),
  }),
});

builder.subscriptionFields((t) => ({
  predictions: t.field({
    type: PredictionEventRef,
    description:
      'Every prediction served by an endpoint, from any replica (an error with code NOT_FOUND for an unknown endpoint)',
    args: { endpoint: t.arg.string({ required: true }) },
    subscribe: async (_root, { endpoint }, { services }) => {
      if (!(await services.endpoints.get(endpoint))) throw topLevelError(new NotFoundError('Endpoint', endpoint));
      return services.pubsub.subscribe('prediction', endpoint);
    },
    resolve: (event) => event,
  }),
}));

const SkippedProviderRef = builder.objectRef<{ provider: string; reason: string }>('SkippedProvider').implement({
  fields: (t) => ({ provider: t.exposeString('provider'), reason: t.exposeString('reason') }),
});

const LoadedModelRef = builder.objectRef<ModelRuntime>('LoadedModel').implement({
  description: 'A model loaded in this process and where it runs',
  fields: (t) => ({
    name: t.string({ resolve: (r) => r.entry.name }),
    version: t.string({ resolve: (r) => r.version }),
    provider: t.string({ description: 'cuda, webgpu or cpu', resolve: (r) => r.provider }),
    skippedProviders: t.field({
      type: [SkippedProviderRef],
      description: 'providers tried before this one and why they were skipped',
      resolve: (r) => r.choice.skipped,
    }),
  }),
});

builder.objectFields(ServerInfoRef, (t) => ({
  loadedModels: t.field({ type: [LoadedModelRef], resolve: (_i, _a, { services }) => services.runtimes.loaded() }),
}));

builder.objectFields(EndpointRef, (t) => ({
  provider: t.string({
    nullable: true,
    description:
      "the execution provider serving this endpoint's model (null until the model is loaded; reading this never loads it)",
    resolve: (e, _a, { services }) => services.runtimes.providerIfLoaded(e.model),
  }),
}));
