/** The Model Monitor's mutations and their inputs. */
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import type { CreateBaselineInput } from '../baselines/service.ts';
import type { CronHelperInput, ScheduleInput, ScheduleUpdate } from './service.ts';
import { BaselineRef, CronKindEnum, DriftMethodEnum, ExecutionRef, ScheduleRef } from '../executions/schema.ts';
import type { ChecksConfig, ChecksInput } from '../baselines/types.ts';

type CheckInput<K extends keyof ChecksConfig> = NonNullable<ChecksInput[K]>;

const CreateBaselineInputRef = builder.inputRef<CreateBaselineInput>('CreateBaselineInput').implement({
  description: 'A window of captures (from/to), or a server-side directory of images predicted with the endpoint\'s model',
  fields: (t) => ({
    endpoint: t.string({ required: true }),
    name: t.string({ required: true }),
    from: t.field({ type: 'DateTime', description: "inclusive; default: the endpoint's first capture" }),
    to: t.field({ type: 'DateTime', description: 'exclusive; default: now' }),
    directory: t.string({ description: 'a directory on the server, inside one of BASELINE_ROOTS, searched recursively for images' }),
    limit: t.int({ description: 'at most this many images of the directory, spread evenly over it' }),
    categoricalDriftMethod: t.field({ type: DriftMethodEnum, description: 'default LInfinity' }),
    categoricalThreshold: t.float({ description: 'LInfinity distance or ChiSquared p-value, (0, 1]; default 0.1' }),
    confidenceThreshold: t.float({ description: "confidence distribution's distance, (0, 1]; default 0.1" }),
  }),
});

const CronHelperInputRef = builder.inputRef<CronHelperInput>('CronHelperInput').implement({
  fields: (t) => ({
    kind: t.field({ type: CronKindEnum, required: true }),
    hour: t.int({ description: 'DAILY: the hour; EVERY_N_HOURS: the first hour (0–23, default 0)' }),
    hours: t.int({ description: 'EVERY_N_HOURS: the interval (1–23)' }),
  }),
});

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
const ChecksInputRef = builder.inputRef<ChecksInput>('MonitoringChecksInput').implement({
  fields: (t) => ({
    classShare: t.field({ type: ClassShareInput }),
    lowConfidence: t.field({ type: LowConfidenceInput }),
    completeness: t.field({ type: CompletenessInput }),
    drift: t.field({ type: DriftInput }),
    minSampleSize: t.int({ description: 'default 30' }),
  }),
});

const CreateScheduleInput = builder.inputRef<ScheduleInput>('CreateMonitoringScheduleInput').implement({
  fields: (t) => ({
    name: t.string({ required: true }),
    endpoint: t.string({ required: true }),
    cron: t.string({ description: '5-field cron (UTC), e.g. "0 * * * *" or "*/5 * * * *"; or give cronHelper' }),
    cronHelper: t.field({ type: CronHelperInputRef }),
    checks: t.field({ type: ChecksInputRef }),
    baseline: t.string({ description: 'a baseline of the endpoint, by name or id' }),
  }),
});

const UpdateScheduleInput = builder.inputRef<ScheduleUpdate>('UpdateMonitoringScheduleInput').implement({
  fields: (t) => ({
    cron: t.string(),
    cronHelper: t.field({ type: CronHelperInputRef }),
    checks: t.field({ type: ChecksInputRef, description: 'merged into the current checks' }),
    baseline: t.string({ description: 'by name or id; an empty string detaches it' }),
  }),
});

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
    errors: { types: [NotFoundError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { services }) => services.monitor.baselines.delete(String(id)),
  }),
  createMonitoringSchedule: t.field({
    type: ScheduleRef,
    description: 'NotFoundError for an unknown endpoint or baseline; ConflictError when the name is taken',
    errors: { types: [NotFoundError, ValidationError, ConflictError] },
    args: { input: t.arg({ type: CreateScheduleInput, required: true }) },
    resolve: (_root, { input }, { services }) => services.monitor.schedules.create(input),
  }),
  updateMonitoringSchedule: t.field({
    type: ScheduleRef,
    errors: { types: [NotFoundError, ValidationError] },
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdateScheduleInput, required: true }) },
    resolve: (_root, { name, input }, { services }) => services.monitor.schedules.update(name, input),
  }),
  deleteMonitoringSchedule: t.field({
    type: ScheduleRef,
    description: 'Deletes the schedule with its executions and metrics; returns what was deleted',
    errors: { types: [NotFoundError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.schedules.delete(name),
  }),
  runMonitoringSchedule: t.field({
    type: ExecutionRef,
    description:
      'Runs the schedule now over the captures since its previous execution, and returns the finished execution (ConflictError while another run holds it)',
    errors: { types: [NotFoundError, ConflictError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.executions.runNow(name),
  }),
}));
