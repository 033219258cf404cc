/** GraphQL types and operations of the endpoint registry. */

import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { builder } from '../schema/builder.ts';
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
  }),
});

const DebugHookConfigRef = builder.objectRef<DebugHookConfig>('DebugHookConfig').implement({
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    includeRegex: t.exposeString('includeRegex', { nullable: true }),
    saveInterval: t.exposeInt('saveInterval', { description: 'tensors are saved every N-th step' }),
    collections: t.exposeStringList('collections'),
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

const DataCaptureInput = builder.inputRef<Patch<DataCaptureConfig>>('DataCaptureInput').implement({
  fields: (t) => ({
    enabled: t.boolean(),
    samplingPercentage: t.float({ description: 'share of requests captured, 0–100' }),
    captureMode: t.field({ type: CaptureModeEnum }),
  }),
});

const DebugHookInput = builder.inputRef<Patch<DebugHookConfig>>('DebugHookInput').implement({
  fields: (t) => ({
    enabled: t.boolean(),
    includeRegex: t.string({ description: 'tensor names to save; an empty string clears it' }),
    saveInterval: t.int({ description: 'save every N-th step (≥ 1)' }),
    collections: t.stringList({ description: 'named presets, e.g. "fullgrad"' }),
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
    description: 'Deletes the endpoint with its captures, debug steps and schedules; returns what was deleted',
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
