/** Executions in GraphQL: the type, its enums, the queries, and the mutation that runs a schedule now. */
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { ViolationRef } from '../checks/schema.ts';
import { MetricRef } from '../metrics/schema.ts';
import { classCountList } from '../windows/class-counts.ts';
import { ClassCountRef } from '../windows/schema.ts';
import { constraintViolations } from './constraint-violations-json.ts';
import { EXECUTION_STATUSES, EXECUTION_TRIGGERS, type ExecutionRecord } from './types.ts';

export const ExecutionStatusEnum = builder.enumType('MonitoringExecutionStatus', { values: EXECUTION_STATUSES });
const TriggerEnum = builder.enumType('MonitoringTrigger', { values: EXECUTION_TRIGGERS });

export const ExecutionRef = builder.objectRef<ExecutionRecord>('MonitoringExecution').implement({
  description: 'One run of a schedule over the captures in [windowStart, windowEnd)',
  fields: (t) => ({
    id: t.exposeID('id'),
    schedule: t.string({ resolve: (e) => e.scheduleName }),
    endpoint: t.string({ resolve: (e) => e.endpointName }),
    trigger: t.field({ type: TriggerEnum, resolve: (e) => e.trigger }),
    status: t.field({ type: ExecutionStatusEnum, resolve: (e) => e.status }),
    windowStart: t.field({ type: 'DateTime', description: 'inclusive', resolve: (e) => e.windowStart }),
    windowEnd: t.field({ type: 'DateTime', description: 'exclusive', resolve: (e) => e.windowEnd }),
    recordCount: t.exposeInt('recordCount', { description: 'captures in the window' }),
    classCounts: t.field({ type: 'JSON', nullable: true, description: 'class → count', resolve: (e) => e.classCounts }),
    classes: t.field({
      type: [ClassCountRef],
      description: 'every class of the model, with its count in the window',
      resolve: (e, _args, { services }) => classCountList(e.classCounts, services.monitor.executions.labels(e.model)),
    }),
    message: t.string({
      description:
        'one line, as SageMaker writes it: e.g. "CompletedWithViolations: <first violation>" (the status while running)',
      resolve: (e) => e.message ?? e.status,
    }),
    violations: t.field({
      type: [ViolationRef],
      resolve: (e, _args, { loaders }) => loaders.violationsOfExecution.load(e.id),
    }),
    constraintViolations: t.field({
      type: 'JSON',
      description: 'constraint_violations.json (SageMaker Model Monitor shape)',
      resolve: async (e, _args, { loaders }) => constraintViolations(await loaders.violationsOfExecution.load(e.id)),
    }),
    metrics: t.field({ type: [MetricRef], resolve: (e, _args, { loaders }) => loaders.metricsOfExecution.load(e.id) }),
    startedAt: t.field({ type: 'DateTime', resolve: (e) => e.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.finishedAt }),
    constraintViolationsUrl: t.string({ resolve: (e) => `/executions/${e.id}/constraint_violations.json` }),
    classesChartUrl: t.string({
      description: 'a PNG bar chart of the class counts',
      resolve: (e) => `/executions/${e.id}/classes.png`,
    }),
  }),
});

builder.queryFields((t) => ({
  monitoringExecution: t.field({
    type: ExecutionRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { services }) => services.monitor.executions.get(String(id)),
  }),
  monitoringExecutions: t.field({
    type: [ExecutionRef],
    description: "A schedule's executions, newest first, optionally of one status (first: 1–500, default 20)",
    errors: {
      types: [NotFoundError, ValidationError],
      result: { name: 'MonitoringExecutionList' },
      dataField: { name: 'executions' },
    },
    args: {
      schedule: t.arg.string({ required: true }),
      status: t.arg({ type: ExecutionStatusEnum }),
      first: t.arg.int(),
    },
    resolve: (_root, { schedule, ...args }, { services }) => services.monitor.executions.list(schedule, args),
  }),
}));

builder.mutationFields((t) => ({
  runMonitoringSchedule: t.field({
    type: ExecutionRef,
    description:
      'Runs the schedule now over the captures since its previous execution, and returns the finished execution (ConflictError while another run holds it)',
    errors: { types: [NotFoundError, ConflictError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.monitor.executions.runNow(name),
  }),
}));
