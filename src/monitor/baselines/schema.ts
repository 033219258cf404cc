/** Baselines in GraphQL: the type, its input, the queries and the mutations. */
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { classCountList } from '../windows/class-counts.ts';
import { ClassCountRef } from '../windows/schema.ts';
import { baselineAccuracy } from './accuracy.ts';
import { MAX_CONSTRAINTS_BYTES } from './constraints-json.ts';
import type { InputProfile } from './input-profile.ts';
import type { CreateBaselineInput } from './service.ts';
import {
  BASELINE_SOURCES,
  type BaselineRecord,
  DRIFT_METHODS,
  FEATURE,
  type StringFeatureStatistics,
} from './types.ts';

const DriftMethodEnum = builder.enumType('CategoricalDriftMethod', { values: DRIFT_METHODS });
const BaselineSourceEnum = builder.enumType('BaselineSource', { values: BASELINE_SOURCES });

const InputProfileRef = builder.objectRef<InputProfile>('InputProfile').implement({
  description:
    "What the inputDrift check and outlier scores compare with: principal components of the reference's features, a held-out projected sample, its image statistics",
  fields: (t) => ({
    itemCount: t.exposeInt('itemCount', { description: 'reference images with features' }),
    featureSize: t.exposeInt('featureSize', { description: 'values per feature vector' }),
    components: t.int({ description: 'dimensions of the projection', resolve: (p) => p.basis.length }),
    explainedVariance: t.exposeFloat('explainedVariance', { description: "share of the features' variance they hold" }),
    referenceSize: t.int({ description: 'projected reference points kept', resolve: (p) => p.reference.length }),
  }),
});

export const BaselineRef = builder.objectRef<BaselineRecord>('Baseline').implement({
  description: 'Statistics of a reference set of predictions and the constraints suggested from them',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    endpoint: t.string({ resolve: (b) => b.endpointName }),
    source: t.field({ type: BaselineSourceEnum, resolve: (b) => b.source }),
    itemCount: t.exposeInt('itemCount'),
    inputProfile: t.field({
      type: InputProfileRef,
      nullable: true,
      description: 'null when the reference had no features (a model without them, or captures taken before)',
      resolve: (b) => b.inputProfile,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.createdAt }),
    statistics: t.field({
      type: 'JSON',
      description: 'statistics.json (SageMaker Model Monitor shape)',
      resolve: (b) => b.statistics,
    }),
    constraints: t.field({
      type: 'JSON',
      description: "constraints.json (SageMaker Model Monitor's shape, holding only what vigil enforces)",
      resolve: (b) => b.constraints,
    }),
    accuracy: t.float({
      nullable: true,
      description:
        "accuracy over the window's captures that had a true label when the baseline was made (null without any); the modelQuality check's baselineTolerance compares with it",
      resolve: (b) => baselineAccuracy(b.statistics),
    }),
    statisticsUrl: t.string({
      description: 'path of the statistics.json download',
      resolve: (b) => `/baselines/${b.id}/statistics.json`,
    }),
    constraintsUrl: t.string({
      description: 'path of the constraints.json download',
      resolve: (b) => `/baselines/${b.id}/constraints.json`,
    }),
    classes: t.field({
      type: [ClassCountRef],
      resolve: (b, _args, { services }) => {
        const feature = b.statistics.features.find(
          (f): f is StringFeatureStatistics => f.name === FEATURE.predictedClass && 'string_statistics' in f,
        );
        const counts = Object.fromEntries(
          (feature?.string_statistics.distribution.categorical.buckets ?? []).map((x) => [x.value, x.count]),
        );
        return classCountList(counts, services.models.labels(b.model));
      },
    }),
  }),
});

const CreateBaselineInputRef = builder.inputRef<CreateBaselineInput>('CreateBaselineInput').implement({
  description:
    "A window of captures (from/to), or a server-side directory of images predicted with the endpoint's model",
  fields: (t) => ({
    endpoint: t.string({ required: true }),
    name: t.string({ required: true }),
    from: t.field({ type: 'DateTime', description: "inclusive; default: the endpoint's first capture" }),
    to: t.field({ type: 'DateTime', description: 'exclusive; default: now' }),
    directory: t.string({
      description: 'a directory on the server, inside one of BASELINE_ROOTS, searched recursively for images',
    }),
    limit: t.int({ description: 'at most this many images of the directory, spread evenly over it' }),
    categoricalDriftMethod: t.field({ type: DriftMethodEnum, description: 'default LInfinity' }),
    categoricalThreshold: t.float({ description: 'LInfinity distance or ChiSquared p-value, (0, 1]; default 0.1' }),
    confidenceThreshold: t.float({ description: "confidence distribution's distance, (0, 1]; default 0.1" }),
  }),
});

builder.queryFields((t) => ({
  baseline: t.field({
    type: BaselineRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { services }) => services.monitor.baselines.get(String(id)),
  }),
  baselines: t.field({
    type: [BaselineRef],
    description: "Every baseline, or an endpoint's (NotFoundError for an unknown endpoint)",
    errors: { types: [NotFoundError], result: { name: 'BaselineList' }, dataField: { name: 'baselines' } },
    args: { endpoint: t.arg.string() },
    resolve: (_root, { endpoint }, { services }) => services.monitor.baselines.list(endpoint),
  }),
}));

builder.mutationFields((t) => ({
  createBaseline: t.field({
    type: BaselineRef,
    description: 'NotFoundError for an unknown endpoint; ConflictError when the endpoint has a baseline of that name',
    errors: { types: [NotFoundError, ValidationError, ConflictError] },
    args: { input: t.arg({ type: CreateBaselineInputRef, required: true }) },
    resolve: (_root, { input }, { services }) => services.monitor.baselines.create(input),
  }),
  deleteBaseline: t.field({
    type: BaselineRef,
    description:
      'ConflictError, naming them, when schedules compare with it; detachSchedules: true detaches them (their drift check is turned off) and deletes it',
    errors: { types: [NotFoundError, ConflictError] },
    args: { id: t.arg.id({ required: true }), detachSchedules: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, { id, detachSchedules }, { services }) =>
      services.monitor.baselines.delete(String(id), detachSchedules ?? false),
  }),
  replaceBaselineConstraints: t.field({
    type: BaselineRef,
    description: `Replaces the baseline's constraints with an edited constraints.json (at most ${MAX_CONSTRAINTS_BYTES} bytes): only what vigil enforces, monitoring_config.distribution_constraints, is accepted; schedules use it from their next execution`,
    errors: { types: [NotFoundError, ValidationError] },
    args: { id: t.arg.id({ required: true }), constraints: t.arg({ type: 'JSON', required: true }) },
    resolve: (_root, { id, constraints }, { services }) =>
      services.monitor.baselines.replaceConstraints(String(id), constraints),
  }),
}));
