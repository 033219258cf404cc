/** GraphQL types and operations of the endpoint registry. */

import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { builder } from '../schema/builder.ts';
import type { EndpointStorage } from './service.ts';
import {
  CAPTURE_MODES,
  type DataCaptureConfig,
  type DebugHookConfig,
  type Endpoint,
  type EndpointChange,
  type EndpointInput,
  type EndpointUpdate,
  type Patch,
} from './types.ts';

export const CaptureModeEnum = builder.enumType('CaptureMode', {
  description: 'What a capture stores: the request (image), the response (prediction), or both',
  values: CAPTURE_MODES,
});

const DataCaptureConfigRef = builder.objectRef<DataCaptureConfig>('DataCaptureConfig').implement({
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    samplingPercentage: t.exposeFloat('samplingPercentage', { description: 'share of requests captured, 0–100' }),
    captureMode: t.field({ type: CaptureModeEnum, resolve: (c) => c.captureMode }),
    retentionDays: t.exposeInt('retentionDays', {
      nullable: true,
      description: 'days captures (with their debug steps) are kept; null: for ever',
    }),
  }),
});

const DebugHookConfigRef = builder.objectRef<DebugHookConfig>('DebugHookConfig').implement({
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    includeRegex: t.exposeString('includeRegex', { nullable: true }),
    saveInterval: t.exposeInt('saveInterval', { description: 'tensors are saved every N-th step' }),
    collections: t.exposeStringList('collections'),
    retentionDays: t.exposeInt('retentionDays', {
      nullable: true,
      description: 'days debug steps and their tensors are kept (their captures stay); null: for ever',
    }),
  }),
});

export const EndpointRef = builder.objectRef<Endpoint>('Endpoint').implement({
  description: 'A deployed model and its data-capture and debugger-hook settings',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    model: t.exposeString('model'),
    dataCapture: t.field({ type: DataCaptureConfigRef, resolve: (e) => e.dataCapture }),
    debugHook: t.field({ type: DebugHookConfigRef, resolve: (e) => e.debugHook }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (e) => e.updatedAt }),
  }),
});

const StoredRowsRef = builder.objectRef<{ count: number; bytes: number }>('StoredRows').implement({
  fields: (t) => ({
    count: t.exposeInt('count'),
    bytes: t.exposeFloat('bytes', { description: 'a Float: totals pass 2^31' }),
  }),
});

const EndpointStorageRef = builder.objectRef<EndpointStorage>('EndpointStorage').implement({
  description: 'What one endpoint holds in the database',
  fields: (t) => ({
    endpoint: t.field({ type: EndpointRef, resolve: (s) => s.endpoint }),
    captures: t.field({
      type: StoredRowsRef,
      description: 'bytes: the stored request images',
      resolve: (s) => s.usage.captures,
    }),
    debugSteps: t.int({ resolve: (s) => s.usage.debugSteps }),
    tensors: t.field({
      type: StoredRowsRef,
      description: "bytes: the debug steps' stored tensor data",
      resolve: (s) => s.usage.tensors,
    }),
    executions: t.int({ description: "its schedules' monitoring executions", resolve: (s) => s.usage.executions }),
  }),
});

const StorageReportRef = builder.objectRef<{ endpoints: EndpointStorage[] }>('StorageReport').implement({
  fields: (t) => ({
    endpoints: t.field({ type: [EndpointStorageRef], resolve: (r) => r.endpoints }),
  }),
});

const DataCaptureInput = builder.inputRef<Patch<DataCaptureConfig>>('DataCaptureInput').implement({
  fields: (t) => ({
    enabled: t.boolean(),
    samplingPercentage: t.float({ description: 'share of requests captured, 0–100' }),
    captureMode: t.field({ type: CaptureModeEnum }),
    retentionDays: t.int({
      description: 'delete captures (and their debug steps) older than this many days, 1–3650; 0 keeps them for ever',
    }),
  }),
});

const DebugHookInput = builder.inputRef<Patch<DebugHookConfig>>('DebugHookInput').implement({
  fields: (t) => ({
    enabled: t.boolean(),
    includeRegex: t.string({ description: 'tensor names to save; an empty string clears it' }),
    saveInterval: t.int({ description: 'save every N-th step (≥ 1)' }),
    collections: t.stringList({ description: 'named presets, e.g. "fullgrad"' }),
    retentionDays: t.int({
      description:
        'delete debug steps and tensors older than this many days (captures stay), 1–3650; 0 keeps them for ever',
    }),
  }),
});

const CreateEndpointInput = builder.inputRef<EndpointInput>('CreateEndpointInput').implement({
  fields: (t) => ({
    name: t.string({
      required: true,
      description: '1–63 letters, digits and hyphens, starting and ending with a letter or digit; unique',
    }),
    model: t.string({ description: 'a model of serverInfo.models; defaults to the bundled model' }),
    dataCapture: t.field({ type: DataCaptureInput }),
    debugHook: t.field({ type: DebugHookInput }),
  }),
});

const UpdateEndpointInput = builder.inputRef<EndpointUpdate>('UpdateEndpointInput').implement({
  fields: (t) => ({
    model: t.string(),
    dataCapture: t.field({ type: DataCaptureInput }),
    debugHook: t.field({ type: DebugHookInput }),
  }),
});

builder.queryFields((t) => ({
  endpoint: t.field({
    type: EndpointRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.endpoints.get(name),
  }),
  endpoints: t.field({
    type: [EndpointRef],
    resolve: (_root, _args, { services }) => services.endpoints.list(),
  }),
  storage: t.field({
    type: StorageReportRef,
    description:
      "Rows and bytes each endpoint (or the one named) holds in the database; NotFoundError for an unknown endpoint. Counted when asked: a scan of the endpoints' rows",
    errors: { types: [NotFoundError] },
    args: { endpoint: t.arg.string() },
    resolve: async (_root, { endpoint }, { services }) => ({ endpoints: await services.endpoints.storage(endpoint) }),
  }),
}));

builder.mutationFields((t) => ({
  createEndpoint: t.field({
    type: EndpointRef,
    description: 'NotFoundError for an unknown model; ConflictError when the name is taken',
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: CreateEndpointInput, required: true }) },
    resolve: (_root, { input }, { services }) => services.endpoints.create(input),
  }),
  updateEndpoint: t.field({
    type: EndpointRef,
    description: 'Takes effect for the next request, without a restart or dropping requests in flight',
    errors: { types: [NotFoundError, ValidationError] },
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdateEndpointInput, required: true }) },
    resolve: (_root, { name, input }, { services }) => services.endpoints.update(name, input),
  }),
  deleteEndpoint: t.field({
    type: EndpointRef,
    description:
      'Deletes the endpoint with its captures, debug steps, baselines and schedules; returns what was deleted. ' +
      'The endpoint is gone and its name free when this returns; its data is deleted in the background, in batches',
    errors: { types: [NotFoundError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.endpoints.delete(name),
  }),
}));

const EndpointChangeKindEnum = builder.enumType('EndpointChangeKind', {
  values: ['CREATED', 'UPDATED', 'DELETED'] as const,
});

const EndpointEventRef = builder.objectRef<EndpointChange>('EndpointEvent').implement({
  fields: (t) => ({
    kind: t.field({ type: EndpointChangeKindEnum, resolve: (e) => e.kind }),
    name: t.exposeString('name'),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    endpoint: t.field({
      type: EndpointRef,
      nullable: true,
      description: 'the endpoint as it is now (null once deleted)',
      resolve: (e, _args, { services }) => (e.kind === 'DELETED' ? null : services.endpoints.get(e.name)),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  endpointChanged: t.field({
    type: EndpointEventRef,
    description: 'Endpoint registry changes, from any replica',
    subscribe: (_root, _args, { services }) => services.pubsub.subscribe('endpointChanged'),
    resolve: (event) => event,
  }),
}));
