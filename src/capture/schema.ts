/**
 * GraphQL types and queries of captured requests.
 *
 * `captures` returns `CapturesResult = CaptureConnection | NotFoundError | ValidationError`:
 *
 *   captures(endpoint: "x", first: 50, after: $cursor, filter: {...}) {
 *     __typename
 *     ... on CaptureConnection { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } }
 *     ... on VigilError { code message }
 *   }
 */
import { NotFoundError, ValidationError } from '../errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../paging.ts';
import { builder } from '../schema/builder.ts';
import { base64, UNKNOWN_CONTENT_TYPE } from './export.ts';
import type { CaptureFilter } from './queries.ts';
import { type CaptureEdge, type CapturePage, type CaptureView, type ClassScore, parseOutput } from './service.ts';

export type { ClassScore } from './service.ts';

/** A class and its softmax probability; shared with predictions. */
export const ClassScoreRef = builder.objectRef<ClassScore>('ClassScore').implement({
  description: 'A class the model scored, with its name and probability',
  fields: (t) => ({
    classId: t.exposeInt('classId'),
    label: t.exposeString('label'),
    probability: t.exposeFloat('probability', { description: 'softmax probability, 0–1' }),
  }),
});

export const CaptureRef = builder.objectRef<CaptureView>('Capture').implement({
  description: 'A sampled request and the prediction served for it',
  fields: (t) => ({
    id: t.exposeID('id'),
    eventId: t.exposeString('eventId'),
    endpoint: t.string({ description: "the endpoint's name", resolve: (c) => c.endpointName }),
    inferenceTime: t.field({ type: 'DateTime', resolve: (c) => c.inferenceTime }),
    modelVersion: t.exposeString('modelVersion'),
    predictedClass: t.exposeInt('predictedClass', { nullable: true }),
    label: t.string({
      nullable: true,
      description: "the predicted class's name (null when the output was not captured)",
      resolve: (c, _args, { services }) => services.captures.predictedLabel(c),
    }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    top: t.field({
      type: [ClassScoreRef],
      description: 'the three best classes, best first (empty when the output was not captured)',
      resolve: (c, _args, { services }) => services.captures.top(c),
    }),
    output: t.field({
      type: 'JSON',
      nullable: true,
      description: 'the captured response, parsed (null when not captured or unreadable)',
      resolve: (c) => parseOutput(c.output),
    }),
    outputText: t.exposeString('output', { nullable: true, description: 'the captured response as stored' }),
    inputContentType: t.exposeString('inputContentType', { nullable: true }),
    inputDataUrl: t.string({
      nullable: true,
      description: 'the captured request body as a data: URL (null when the input was not captured)',
      // the bytes are read only for the captures whose field is selected, in one query per page
      resolve: async (c, _args, { loaders }) => {
        const input = await loaders.captureInput.load(c.id);
        return input ? `data:${input.contentType ?? UNKNOWN_CONTENT_TYPE};base64,${base64(input.data)}` : null;
      },
    }),
    inputBytes: t.int({ nullable: true, resolve: (c, _args, { loaders }) => loaders.captureInputBytes.load(c.id) }),
  }),
});

const CaptureEdgeRef = builder.objectRef<CaptureEdge>('CaptureEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    node: t.field({ type: CaptureRef, resolve: (e) => e.node }),
  }),
});

export const CaptureConnectionRef = builder.objectRef<CapturePage>('CaptureConnection').implement({
  description: "A page of an endpoint's captures, newest first",
  fields: (t) => ({
    edges: t.field({ type: [CaptureEdgeRef], resolve: (p) => p.edges }),
    pageInfo: t.field({ type: builder.pageInfoRef(), resolve: (p) => p.pageInfo }),
    totalCount: t.int({ description: 'captures that pass the filter, on all pages', resolve: (p) => p.totalCount() }),
  }),
});

export const CaptureFilterInput = builder.inputRef<CaptureFilter>('CaptureFilter').implement({
  fields: (t) => ({
    from: t.field({ type: 'DateTime', description: 'inferenceTime ≥ from' }),
    to: t.field({ type: 'DateTime', description: 'inferenceTime < to' }),
    predictedClass: t.int({ description: 'a class index ≥ 0' }),
    minConfidence: t.float({ description: 'confidence ≥ minConfidence (0–1)' }),
    maxConfidence: t.float({ description: 'confidence ≤ maxConfidence (0–1)' }),
    hasDebugStep: t.boolean({
      description: 'true: only captures with a debug step (the hook was on); false: only those without',
    }),
    execution: t.id({
      description:
        "the captures of this monitoring execution's window [windowStart, windowEnd) (of the same endpoint); from/to narrow it further",
    }),
  }),
});

builder.queryFields((t) => ({
  captures: t.field({
    type: CaptureConnectionRef,
    description: `An endpoint's captures, newest first (first: 1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE})`,
    errors: { types: [NotFoundError, ValidationError] },
    args: {
      endpoint: t.arg.string({ required: true }),
      first: t.arg.int(),
      after: t.arg.string({ description: 'endCursor of the previous page' }),
      filter: t.arg({ type: CaptureFilterInput }),
    },
    resolve: async (_root, { endpoint, first, after, filter }, { services }) =>
      services.captures.list(endpoint, {
        first,
        after,
        filter: filter?.execution
          ? await services.monitor.executions.capturesFilter(String(filter.execution), endpoint, filter)
          : filter,
      }),
  }),
  capture: t.field({
    type: CaptureRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { services }) => services.captures.get(String(id)),
  }),
}));
