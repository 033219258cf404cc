/** `predict`, `predictBatch` and the `predictions` live stream. */
import { InvalidImageError, PayloadTooLargeError, UnavailableError, ValidationError } from '../errors.ts';
import { ClassScoreRef } from '../capture/schema.ts';
import { EndpointRef } from '../endpoints/schema.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import { builder } from '../schema/builder.ts';
import { ServerInfoRef } from '../schema/server-info.ts';
import type { ImagePayload, Prediction, PredictionEvent } from './types.ts';

export const PredictionRef = builder.objectRef<Prediction>('Prediction').implement({
  fields: (t) => ({
    endpoint: t.exposeString('endpoint'),
    predictedClass: t.exposeInt('predictedClass'),
    label: t.exposeString('label'),
    confidence: t.exposeFloat('confidence', { description: 'softmax probability of the predicted class' }),
    top: t.field({ type: [ClassScoreRef], resolve: (p) => p.top }),
    captureId: t.id({ nullable: true, description: 'null when this request was not sampled', resolve: (p) => p.captureId }),
    debugStep: t.int({ nullable: true, description: 'the debugger-hook step saved for this request', resolve: (p) => p.debugStep }),
    modelVersion: t.exposeString('modelVersion'),
    provider: t.exposeString('provider', { description: 'the onnxruntime execution provider that ran it' }),
    latencyMs: t.exposeFloat('latencyMs', { description: 'server-side time from request to answer' }),
    batchSize: t.exposeInt('batchSize', { description: 'images in the onnxruntime run that served it' }),
  }),
});

export const ImageInput = builder.inputType('ImageInput', {
  description: 'Exactly one of: a multipart file, base64 image bytes (PNG/JPEG/WebP/PPM), or base64 of a uint8 H×W×3 .npy array',
  fields: (t) => ({
    file: t.field({ type: 'File' }),
    base64: t.string({ description: 'base64 of PNG, JPEG, WebP or PPM bytes' }),
    npy: t.string({ description: "base64 of a NumPy .npy uint8 H×W×3 array (the write-up's client payload)" }),
  }),
});

type ImageInputShape = { file?: File | null; base64?: string | null; npy?: string | null };

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

export async function readImageInput(input: ImageInputShape, field = 'image'): Promise<ImagePayload> {
  const given = (['file', 'base64', 'npy'] as const).filter((k) => input[k] !== undefined && input[k] !== null);
  if (given.length !== 1) {
    throw new ValidationError(field, `${field} needs exactly one of file, base64 or npy (got ${given.length ? given.join(', ') : 'none'})`);
  }
  if (input.file) return { bytes: new Uint8Array(await input.file.arrayBuffer()) };
  const text = (input.base64 ?? input.npy)!;
  if (!BASE64.test(text)) throw new InvalidImageError(`${field}.${given[0]} is not valid base64`);
  return { bytes: Buffer.from(text, 'base64') };
}

const imageErrors = [InvalidImageError, PayloadTooLargeError, UnavailableError];

builder.mutationFields((t) => ({
  predict: t.field({
    type: PredictionRef,
    errors: { types: imageErrors },
    args: {
      endpoint: t.arg.string({ required: true }),
      image: t.arg({ type: ImageInput, required: true }),
      topK: t.arg.int({ defaultValue: 3, description: 'how many classes `top` lists (1–43)' }),
    },
    resolve: async (_root, args, { services }) => {
      const k = checkTopK(args.topK);
      return services.inference.predict(args.endpoint, await readImageInput(args.image), k);
    },
  }),
  predictBatch: t.field({
    type: [PredictionRef],
    description: 'Several images in one request; each item succeeds or fails on its own',
    errors: { types: [ValidationError] },
    itemErrors: { types: imageErrors },
    args: {
      endpoint: t.arg.string({ required: true }),
      images: t.arg({ type: [ImageInput], required: true }),
      topK: t.arg.int({ defaultValue: 3 }),
    },
    resolve: async (_root, args, { services }) => {
      const k = checkTopK(args.topK);
      if (args.images.length === 0 || args.images.length > 256) {
        throw new ValidationError('images', `images must hold 1–256 items, got ${args.images.length}`);
      }
      // Unknown endpoints fail the whole call; a bad image fails only its own item.
      await services.endpoints.snapshot(args.endpoint);
      return args.images.map((image, i) =>
        readImageInput(image, `images[${i}]`).then((payload) => services.inference.predict(args.endpoint, payload, k)),
      );
    },
  }),
}));

function checkTopK(k: number | null | undefined): number {
  const value = k ?? 3;
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw new ValidationError('topK', `topK must be from 1 to 1000, got ${value}`);
  return value;
}

const PredictionEventRef = builder.objectRef<PredictionEvent>('PredictionEvent').implement({
  fields: (t) => ({
    endpoint: t.exposeString('endpoint'),
    predictedClass: t.exposeInt('predictedClass'),
    label: t.exposeString('label'),
    confidence: t.exposeFloat('confidence'),
    captureId: t.id({ nullable: true, resolve: (e) => e.captureId }),
    modelVersion: t.exposeString('modelVersion'),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    latencyMs: t.exposeFloat('latencyMs'),
  }),
});

builder.subscriptionFields((t) => ({
  predictions: t.field({
    type: PredictionEventRef,
    description: 'Every prediction served by an endpoint, from any replica',
    args: { endpoint: t.arg.string({ required: true }) },
    subscribe: (_root, { endpoint }, { services }) => services.pubsub.subscribe('prediction', endpoint),
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
    description: "the execution provider serving this endpoint's model (loads the model if needed)",
    resolve: async (e, _a, { services }) => (await services.runtimes.get(e.model).catch(() => null))?.provider ?? null,
  }),
}));
