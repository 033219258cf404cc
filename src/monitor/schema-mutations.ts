/** The Model Monitor's mutations and their inputs. */
import { builder } from '../schema/builder.ts';
import type { CreateBaselineInput } from './baseline.ts';
import type { CronKind } from './cron.ts';
import type { ScheduleInput, ScheduleUpdate } from './schedules.ts';
import { BaselineRef, CronKindEnum, DriftMethodEnum, ExecutionRef, ScheduleRef } from './schema-types.ts';
import type { ChecksInput } from './types.ts';

const CreateBaselineInputRef = builder.inputType('CreateBaselineInput', {
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

const CronHelperInputRef = builder.inputType('CronHelperInput', {
  fields: (t) => ({
    kind: t.field({ type: CronKindEnum, required: true }),
    hour: t.int({ description: 'DAILY: the hour; EVERY_N_HOURS: the first hour (0–23, default 0)' }),
    hours: t.int({ description: 'EVERY_N_HOURS: the interval (1–23)' }),
  }),
});

const ClassShareInput = builder.inputType('ClassShareCheckInput', {
  fields: (t) => ({ enabled: t.boolean(), threshold: t.float({ description: '(0, 1], default 0.5' }) }),
});
const LowConfidenceInput = builder.inputType('LowConfidenceCheckInput', {
  fields: (t) => ({
    enabled: t.boolean(),
    confidenceThreshold: t.float({ description: 'a prediction is low-confidence below it, (0, 1], default 0.5' }),
    maxShare: t.float({ description: 'allowed share of low-confidence predictions, (0, 1], default 0.2' }),
  }),
});
const CompletenessInput = builder.inputType('CompletenessCheckInput', {
  fields: (t) => ({ enabled: t.boolean(), minNonNullShare: t.float({ description: '(0, 1], default 1.0' }) }),
});
const DriftInput = builder.inputType('DriftCheckInput', {
  description: "Thresholds in (0, 1]; left out or null, the baseline's constraints decide",
  fields: (t) => ({
    enabled: t.boolean({ description: 'needs a baseline; default: on when there is one' }),
    lInfinityThreshold: t.float(),
    chiSquaredPValue: t.float(),
    confidenceShiftThreshold: t.float(),
  }),
});
const ChecksInputRef = builder.inputType('MonitoringChecksInput', {
  fields: (t) => ({
    classShare: t.field({ type: ClassShareInput }),
    lowConfidence: t.field({ type: LowConfidenceInput }),
    completeness: t.field({ type: CompletenessInput }),
    drift: t.field({ type: DriftInput }),
    minSampleSize: t.int({ description: 'default 30' }),
  }),
});

const CreateScheduleInput = builder.inputType('CreateMonitoringScheduleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    endpoint: t.string({ required: true }),
    cron: t.string({ description: '5-field cron (UTC), e.g. "0 * * * *" or "*/5 * * * *"; or give cronHelper' }),
    cronHelper: t.field({ type: CronHelperInputRef }),
    checks: t.field({ type: ChecksInputRef }),
    baseline: t.string({ description: 'a baseline of the endpoint, by name or id' }),
  }),
});

const UpdateScheduleInput = builder.inputType('UpdateMonitoringScheduleInput', {
  fields: (t) => ({
    cron: t.string(),
    cronHelper: t.field({ type: CronHelperInputRef }),
    checks: t.field({ type: ChecksInputRef, description: 'merged into the current checks' }),
    baseline: t.string({ description: 'by name or id; an empty string detaches it' }),
  }),
});

type CronHelper = { kind: CronKind; hour?: number | null; hours?: number | null } | null | undefined;

builder.mutationFields((t) => ({
  createBaseline: t.field({
    type: BaselineRef,
    errors: {},
    args: { input: t.arg({ type: CreateBaselineInputRef, required: true }) },
    resolve: (_root, { input }, { services }) => services.monitor.baselines.create(input as CreateBaselineInput),
  }),
  deleteBaseline: t.field({
    type: BaselineRef,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { services }) => services.monitor.baselines.delete(String(id)),
  }),
  createMonitoringSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    args: { input: t.arg({ type: CreateScheduleInput, required: true }) },
    resolve: (_root, { input }, { services }) =>
      services.monitor.schedules.create({ ...input, cronHelper: input.cronHelper as CronHelper, checks: input.checks as ChecksInput } as ScheduleInput),
  }),
  updateMonitoringSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdateScheduleInput, required: true }) },
    resolve: (_root, { name, input }, { services }) =>
      services.monitor.schedules.update(name, { ...input, cronHelper: input.cronHelper as CronHelper, checks: input.checks as ChecksInput } as ScheduleUpdate),
  }),
  deleteMonitoringSchedule: t.field({
    type: ScheduleRef,
    description: 'Deletes the schedule with its executions and metrics; returns what was deleted',
    errors: {},
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.schedules.delete(name),
  }),
  runMonitoringSchedule: t.field({
    type: ExecutionRef,
    description: 'Runs the schedule now over the captures since its previous execution, and returns the finished execution',
    errors: {},
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.executions.runNow(name),
  }),
}));
