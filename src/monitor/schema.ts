/**
 * GraphQL queries and the alert subscription of the Model Monitor; mutations are in
 * schema-mutations.ts, types in schema-types.ts. Results that can fail are unions with the typed
 * errors (directResult).
 */
import { builder } from '../schema/builder.ts';
import { subscribeAlerts } from './alerts.ts';
import { cronExpression, nextRuns, parseCron, type CronKind } from './cron.ts';
import './schema-mutations.ts';
import { AlertRef, BaselineRef, CronKindEnum, ExecutionRef, ExecutionStatusEnum, MetricRef, ScheduleRef } from './schema-types.ts';
import type { MetricPoint } from './types.ts';

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
      args: { count: t.arg.int({ defaultValue: 5 }) },
      resolve: (c, { count }) => nextRuns(parseCron(c.expression), new Date(), Math.min(Math.max(count ?? 5, 1), 100)),
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
    args: { schedule: t.arg.string({ required: true }), status: t.arg({ type: ExecutionStatusEnum }), first: t.arg.int() },
    resolve: (_root, { schedule, ...args }, { services }) => services.monitor.executions.list(schedule, args),
  }),
  metrics: t.field({
    type: MetricSeriesRef,
    description: "One metric of a schedule over [from, to), for charts (e.g. class_count_14, max_class_share)",
    errors: {},
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
    errors: {},
    args: { kind: t.arg({ type: CronKindEnum, required: true }), hour: t.arg.int(), hours: t.arg.int() },
    resolve: (_root, { kind, hour, hours }) => ({ expression: cronExpression(kind as CronKind, { hour, hours }) }),
  }),
}));

builder.subscriptionFields((t) => ({
  monitorAlerts: t.field({
    type: AlertRef,
    description: "Executions that complete with violations, from any replica (one endpoint's, or all)",
    args: { endpoint: t.arg.string() },
    subscribe: (_root, { endpoint }, { services }) => subscribeAlerts(services.pubsub, endpoint),
    resolve: (alert) => alert,
  }),
}));
