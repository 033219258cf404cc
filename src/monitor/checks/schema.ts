/** The checks' GraphQL types: a schedule's configuration (output and input) and the violations they find. */
import { builder } from '../../schema/builder.ts';
import {
  DEFAULT_INPUT_DRIFT_SAMPLE,
  MAX_GROUND_TRUTH_DELAY_SECONDS,
  MAX_INPUT_DRIFT_SAMPLE,
  MAX_RECALL_CLASSES,
} from './config.ts';
import { ExternalCheckInputRef, ExternalCheckRef } from './external/schema.ts';
import {
  CHECK_NAMES,
  type ChecksConfig,
  type ChecksInput,
  type InputDriftConfig,
  type ModelQualityConfig,
  type Violation,
} from './types.ts';

const CheckNameEnum = builder.enumType('MonitoringCheck', {
  description: 'Which check found a violation: stable, for machines to route on',
  values: CHECK_NAMES,
});

const ClassShareCheckRef = builder.objectRef<ChecksConfig['classShare']>('ClassShareCheck').implement({
  fields: (t) => ({ enabled: t.exposeBoolean('enabled'), threshold: t.exposeFloat('threshold') }),
});
const LowConfidenceCheckRef = builder.objectRef<ChecksConfig['lowConfidence']>('LowConfidenceCheck').implement({
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    confidenceThreshold: t.exposeFloat('confidenceThreshold'),
    maxShare: t.exposeFloat('maxShare'),
  }),
});
const CompletenessCheckRef = builder.objectRef<ChecksConfig['completeness']>('CompletenessCheck').implement({
  fields: (t) => ({ enabled: t.exposeBoolean('enabled'), minNonNullShare: t.exposeFloat('minNonNullShare') }),
});
const DriftCheckRef = builder.objectRef<ChecksConfig['drift']>('DriftCheck').implement({
  description: "Thresholds left null come from the baseline's constraints",
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    lInfinityThreshold: t.exposeFloat('lInfinityThreshold', { nullable: true }),
    chiSquaredPValue: t.exposeFloat('chiSquaredPValue', { nullable: true }),
    confidenceShiftThreshold: t.exposeFloat('confidenceShiftThreshold', { nullable: true }),
  }),
});
const MinRecallRef = builder.objectRef<ModelQualityConfig['minRecall'][number]>('MinRecall').implement({
  fields: (t) => ({ classId: t.exposeInt('classId'), min: t.exposeFloat('min') }),
});
const ModelQualityCheckRef = builder.objectRef<ModelQualityConfig>('ModelQualityCheck').implement({
  description: 'Accuracy and recall over the captures that have a true label (putGroundTruth, POST /ground-truth)',
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    minAccuracy: t.exposeFloat('minAccuracy', { nullable: true }),
    minRecall: t.field({ type: [MinRecallRef], resolve: (q) => q.minRecall }),
    baselineTolerance: t.exposeFloat('baselineTolerance', {
      nullable: true,
      description: "a violation when accuracy is below the baseline's accuracy minus this",
    }),
    groundTruthDelaySeconds: t.exposeInt('groundTruthDelaySeconds', {
      description: "the window evaluated is the execution's shifted back by this: labels arrive after predictions",
    }),
  }),
});

const InputDriftCheckRef = builder.objectRef<InputDriftConfig>('InputDriftCheck').implement({
  description:
    "The window's features and image statistics against the baseline's input profile: a Kolmogorov–Smirnov test per principal component (and per image statistic), Bonferroni-corrected",
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    pValue: t.exposeFloat('pValue', { description: 'drift below this corrected p-value' }),
    imageStatistics: t.exposeBoolean('imageStatistics', {
      description: 'also test brightness, contrast, saturation, width, height and aspect ratio',
    }),
    maxSampleSize: t.exposeInt('maxSampleSize', { description: "the window's captures read, at most" }),
  }),
});

export const ChecksRef = builder.objectRef<ChecksConfig>('MonitoringChecks').implement({
  fields: (t) => ({
    classShare: t.field({ type: ClassShareCheckRef, resolve: (c) => c.classShare }),
    lowConfidence: t.field({ type: LowConfidenceCheckRef, resolve: (c) => c.lowConfidence }),
    completeness: t.field({ type: CompletenessCheckRef, resolve: (c) => c.completeness }),
    drift: t.field({ type: DriftCheckRef, resolve: (c) => c.drift }),
    modelQuality: t.field({ type: ModelQualityCheckRef, resolve: (c) => c.modelQuality }),
    inputDrift: t.field({ type: InputDriftCheckRef, resolve: (c) => c.inputDrift }),
    external: t.field({ type: [ExternalCheckRef], resolve: (c) => c.external }),
    minSampleSize: t.exposeInt('minSampleSize', { description: 'below it an execution reports insufficient data' }),
  }),
});

export const ViolationRef = builder.objectRef<Violation>('MonitoringViolation').implement({
  fields: (t) => ({
    check: t.field({ type: CheckNameEnum, resolve: (v) => v.check }),
    featureName: t.exposeString('featureName', {
      description: "the feature checked; for a model-quality violation (LessThanThreshold), the metric's name",
    }),
    metricName: t.string({
      nullable: true,
      description: "a model-quality violation's metric (Model Monitor's metric_name), e.g. accuracy or recall_14",
      resolve: (v) => (v.check === 'MODEL_QUALITY' ? v.featureName : null),
    }),
    constraintCheckType: t.exposeString('constraintCheckType', {
      description: "Model Monitor's check type (baseline_drift_check covers several checks: see `check`)",
    }),
    description: t.exposeString('description'),
  }),
});

type CheckInput<K extends keyof ChecksConfig> = NonNullable<ChecksInput[K]>;

const ClassShareInput = builder.inputRef<CheckInput<'classShare'>>('ClassShareCheckInput').implement({
  fields: (t) => ({ enabled: t.boolean(), threshold: t.float({ description: '(0, 1], default 0.5' }) }),
});
const LowConfidenceInput = builder.inputRef<CheckInput<'lowConfidence'>>('LowConfidenceCheckInput').implement({
  fields: (t) => ({
    enabled: t.boolean(),
    confidenceThreshold: t.float({ description: 'a prediction is low-confidence below it, (0, 1], default 0.5' }),
    maxShare: t.float({ description: 'allowed share of low-confidence predictions, (0, 1], default 0.2' }),
  }),
});
const CompletenessInput = builder.inputRef<CheckInput<'completeness'>>('CompletenessCheckInput').implement({
  fields: (t) => ({ enabled: t.boolean(), minNonNullShare: t.float({ description: '(0, 1], default 1.0' }) }),
});
const DriftInput = builder.inputRef<CheckInput<'drift'>>('DriftCheckInput').implement({
  description: "Thresholds in (0, 1]; left out or null, the baseline's constraints decide",
  fields: (t) => ({
    enabled: t.boolean({ description: 'needs a baseline; default: on when there is one' }),
    lInfinityThreshold: t.float(),
    chiSquaredPValue: t.float(),
    confidenceShiftThreshold: t.float(),
  }),
});
const MinRecallInput = builder.inputRef<ModelQualityConfig['minRecall'][number]>('MinRecallInput').implement({
  fields: (t) => ({
    classId: t.int({ required: true }),
    min: t.float({ required: true, description: '(0, 1]' }),
  }),
});
const ModelQualityInput = builder.inputRef<CheckInput<'modelQuality'>>('ModelQualityCheckInput').implement({
  description: 'Off by default; needs ground truth (putGroundTruth, POST /ground-truth)',
  fields: (t) => ({
    enabled: t.boolean(),
    minAccuracy: t.float({ description: '(0, 1]; null: not checked' }),
    minRecall: t.field({
      type: [MinRecallInput],
      description: `per class, at most ${MAX_RECALL_CLASSES}; replaces the current list`,
    }),
    baselineTolerance: t.float({
      description: "[0, 1]: a violation below the baseline's accuracy minus this (the baseline needs an accuracy)",
    }),
    groundTruthDelaySeconds: t.int({
      description: `0–${MAX_GROUND_TRUTH_DELAY_SECONDS}, default 0: the window evaluated is shifted back by this`,
    }),
  }),
});

const InputDriftInput = builder.inputRef<CheckInput<'inputDrift'>>('InputDriftCheckInput').implement({
  description:
    "Off by default; needs a baseline with an input profile (made since the model's serving graph has features)",
  fields: (t) => ({
    enabled: t.boolean(),
    pValue: t.float({ description: '(0, 1], default 0.05: drift below this Bonferroni-corrected p-value' }),
    imageStatistics: t.boolean({ description: 'default true: test the image statistics too' }),
    maxSampleSize: t.int({
      description: `1–${MAX_INPUT_DRIFT_SAMPLE}, default ${DEFAULT_INPUT_DRIFT_SAMPLE}: the window's captures read, spread over it`,
    }),
  }),
});

export const ChecksInputRef = builder.inputRef<ChecksInput>('MonitoringChecksInput').implement({
  fields: (t) => ({
    classShare: t.field({ type: ClassShareInput }),
    lowConfidence: t.field({ type: LowConfidenceInput }),
    completeness: t.field({ type: CompletenessInput }),
    drift: t.field({ type: DriftInput }),
    modelQuality: t.field({ type: ModelQualityInput }),
    inputDrift: t.field({ type: InputDriftInput }),
    external: t.field({
      type: [ExternalCheckInputRef],
      description: "scripts of the server's CHECKS_DIR run per execution; replaces the current list ([] removes them)",
    }),
    minSampleSize: t.int({ description: 'default 30 (for model quality: of labelled captures)' }),
  }),
});
