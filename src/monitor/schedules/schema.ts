/** Schedules in GraphQL: the type, its inputs, cron helpers, the queries and the mutations. */
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { BaselineRef } from '../baselines/schema.ts';
import { ChecksInputRef, ChecksRef } from '../checks/schema.ts';
import { ExecutionRef, ExecutionStatusEnum } from '../executions/schema.ts';
import { cronExpression, nextRuns, parseCron } from './cron.ts';
import type { CronHelperInput, ScheduleInput, ScheduleUpdate } from './service.ts';
import type { ScheduleRecord } from './types.ts';

const CronKindEnum = builder.enumType('CronKind', {
  description: "SageMaker CronExpressionGenerator's helpers",
  values: ['HOURLY', 'DAILY', 'EVERY_N_HOURS'] as const,
});

const CronRef = builder.objectRef<{ expression: string }>('CronExpression').implement({
  fields: (t) => ({
    expression: t.exposeString('expression'),
    nextRuns: t.field({
      type: ['DateTime'],
      description: 'the next `count` instants it fires (1–100)',
      errors: { types: [ValidationError], result: { name: 'CronRunList' }, dataField: { name: 'runs' } },
      args: { count: t.arg.int({ defaultValue: 5 }) },
      resolve: (c, { count }) => {
        const n = count ?? 5;
        if (!Number.isInteger(n) || n < 1 || n > 100)
          throw new ValidationError('count', `count must be from 1 to 100, got ${n}`);
        return nextRuns(parseCron(c.expression), new Date(), n);
      },
    }),
  }),
});

const ScheduleStatusEnum = builder.enumType('MonitoringScheduleStatus', {
  description: 'ACTIVE: the scheduler runs it at its cron times; PAUSED: not until it is resumed',
  values: ['ACTIVE', 'PAUSED'] as const,
});

export const ScheduleRef = builder.objectRef<ScheduleRecord>('MonitoringSchedule').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    endpoint: t.string({ resolve: (s) => s.endpointName }),
    cron: t.exposeString('cron', { description: '5 fields, UTC' }),
    nextRunAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'null while paused',
      resolve: (s) => s.nextRunAt,
    }),
    status: t.field({ type: ScheduleStatusEnum, resolve: (s) => (s.pausedAt ? 'PAUSED' : 'ACTIVE') }),
    pausedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.pausedAt }),
    executionRetentionDays: t.exposeInt('executionRetentionDays', {
      nullable: true,
      description: 'days executions (with their violations and metrics) are kept; null: for ever',
    }),
    checks: t.field({ type: ChecksRef, resolve: (s) => s.checks }),
    baseline: t.field({
      type: BaselineRef,
      nullable: true,
      resolve: (s, _args, { loaders }) => (s.baselineId ? loaders.baseline.load(s.baselineId) : null),
    }),
    executions: t.field({
      type: [ExecutionRef],
      description: 'newest first (first: 1–500, default 20)',
      errors: {
        types: [ValidationError],
        result: { name: 'MonitoringScheduleExecutionList' },
        dataField: { name: 'executions' },
      },
      args: { status: t.arg({ type: ExecutionStatusEnum }), first: t.arg.int() },
      resolve: (s, args, { services }) => services.monitor.executions.list({ schedule: s.name }, args),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (s) => s.updatedAt }),
  }),
});

const CronHelperInputRef = builder.inputRef<CronHelperInput>('CronHelperInput').implement({
  fields: (t) => ({
    kind: t.field({ type: CronKindEnum, required: true }),
    hour: t.int({ description: 'DAILY: the hour; EVERY_N_HOURS: the first hour (0–23, default 0)' }),
    hours: t.int({ description: 'EVERY_N_HOURS: the interval (1–23)' }),
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
    executionRetentionDays: t.int({
      description:
        'delete executions (with violations and metrics) whose window ended more than this many days ago, 1–3650; 0 or left out: kept for ever',
    }),
  }),
});

const UpdateScheduleInput = builder.inputRef<ScheduleUpdate>('UpdateMonitoringScheduleInput').implement({
  fields: (t) => ({
    cron: t.string(),
    cronHelper: t.field({ type: CronHelperInputRef }),
    checks: t.field({ type: ChecksInputRef, description: 'merged into the current checks' }),
    baseline: t.string({ description: 'by name or id; an empty string detaches it' }),
    executionRetentionDays: t.int({ description: 'days executions are kept, 1–3650; 0 keeps them for ever' }),
  }),
});

builder.queryFields((t) => ({
  monitoringSchedule: t.field({
    type: ScheduleRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.schedules.get(name),
  }),
  monitoringSchedules: t.field({
    type: [ScheduleRef],
    description: "Every schedule, or an endpoint's (NotFoundError for an unknown endpoint)",
    errors: { types: [NotFoundError], result: { name: 'MonitoringScheduleList' }, dataField: { name: 'schedules' } },
    args: { endpoint: t.arg.string() },
    resolve: (_root, { endpoint }, { services }) => services.monitor.schedules.list(endpoint),
  }),
  cronExpression: t.field({
    type: CronRef,
    description: 'A 5-field cron expression from a helper: HOURLY, DAILY at hour, EVERY_N_HOURS (hours) from hour',
    errors: { types: [ValidationError] },
    args: { kind: t.arg({ type: CronKindEnum, required: true }), hour: t.arg.int(), hours: t.arg.int() },
    resolve: (_root, { kind, hour, hours }) => ({ expression: cronExpression(kind, { hour, hours }) }),
  }),
}));

builder.mutationFields((t) => ({
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
  pauseMonitoringSchedule: t.field({
    type: ScheduleRef,
    description:
      'The scheduler stops running it (a run in progress finishes; runMonitoringSchedule still runs it); its history stays',
    errors: { types: [NotFoundError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.schedules.pause(name),
  }),
  resumeMonitoringSchedule: t.field({
    type: ScheduleRef,
    description: 'Runs it again from its next cron time; the next window starts where the last one ended',
    errors: { types: [NotFoundError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.schedules.resume(name),
  }),
  deleteMonitoringSchedule: t.field({
    type: ScheduleRef,
    description: 'Deletes the schedule with its executions and metrics; returns what was deleted',
    errors: { types: [NotFoundError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.schedules.delete(name),
  }),
}));
