/**
 * GraphQL queries and the alert subscription of the Model Monitor; mutations are in
 * schema-mutations.ts, types in schema-types.ts. Results that can fail are unions with the typed
 * errors (directResult).
 */
import { NotFoundError, ValidationError } from '../errors.ts';
import { builder } from '../schema/builder.ts';
import { topLevelError } from '../schema/errors.ts';
import { subscribeAlerts } from './alerts/publish.ts';
import { cronExpression, nextRuns, parseCron } from './schedules/cron.ts';
import './schedules/schema.ts';
import { AlertRef, BaselineRef, CronKindEnum, ExecutionRef, ExecutionStatusEnum, MetricRef, ScheduleRef } from './executions/schema.ts';
import type { MetricPoint } from './baselines/types.ts';

interface MetricSeries {
  schedule: string;
  name: string;
  points: MetricPoint[];
}
const MetricSeriesRef = builder.objectRef<MetricSeries>('MonitoringMetricSeries').implement({
  fields: (t) => ({
    schedule: t.exposeString('schedule'),
    name: t.exposeString('name'),
    points: t.field({ type: [MetricRef], description: 'oldest first', resolve: (s) => s.points }),
  }),
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
        if (!Number.isInteger(n) || n < 1 || n > 100) throw new ValidationError('count', `count must be from 1 to 100, got ${n}`);
        return nextRuns(parseCron(c.expression), new Date(), n);
      },
    }),
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
  monitoringExecution: t.field({
    type: ExecutionRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { services }) => services.monitor.executions.get(String(id)),
  }),
  monitoringExecutions: t.field({
    type: [ExecutionRef],
    description: "A schedule's executions, newest first, optionally of one status (first: 1–500, default 20)",
    errors: { types: [NotFoundError, ValidationError], result: { name: 'MonitoringExecutionList' }, dataField: { name: 'executions' } },
    args: { schedule: t.arg.string({ required: true }), status: t.arg({ type: ExecutionStatusEnum }), first: t.arg.int() },
    resolve: (_root, { schedule, ...args }, { services }) => services.monitor.executions.list(schedule, args),
  }),
  metrics: t.field({
    type: MetricSeriesRef,
    description: "One metric of a schedule over [from, to), for charts (e.g. class_count_14, max_class_share)",
    errors: { types: [NotFoundError] },
    args: {
      schedule: t.arg.string({ required: true }),
      name: t.arg.string({ required: true }),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
    },
    resolve: async (_root, { schedule, name, from, to }, { services }) => ({
      schedule,
      name,
      points: await services.monitor.metrics.series(schedule, name, { from, to }),
    }),
  }),
  cronExpression: t.field({
    type: CronRef,
    description: 'A 5-field cron expression from a helper: HOURLY, DAILY at hour, EVERY_N_HOURS (hours) from hour',
    errors: { types: [ValidationError] },
    args: { kind: t.arg({ type: CronKindEnum, required: true }), hour: t.arg.int(), hours: t.arg.int() },
    resolve: (_root, { kind, hour, hours }) => ({ expression: cronExpression(kind, { hour, hours }) }),
  }),
}));

builder.subscriptionFields((t) => ({
  monitorAlerts: t.field({
    type: AlertRef,
    description: "Executions that complete with violations, from any replica (one endpoint's, or all; an error with code NOT_FOUND for an unknown endpoint)",
    args: { endpoint: t.arg.string() },
    subscribe: async (_root, { endpoint }, { services }) => {
      if (endpoint && !(await services.endpoints.get(endpoint))) throw topLevelError(new NotFoundError('Endpoint', endpoint));
      return subscribeAlerts(services.pubsub, endpoint);
    },
    resolve: (alert) => alert,
  }),
}));
