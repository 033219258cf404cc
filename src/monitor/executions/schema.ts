/**
 * Executions in GraphQL: the type, its enums, the queries, the mutation that runs a schedule now and
 * the one that runs the checks over any window (runMonitoringJob).
 */
import { CaptureConnectionRef, CaptureFilterInput } from '../../capture/schema.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { ExternalCheckRunRef } from '../checks/external/schema.ts';
import { ChecksInputRef, ViolationRef } from '../checks/schema.ts';
import { MetricRef } from '../metrics/schema.ts';
import { classCountList } from '../windows/class-counts.ts';
import { ClassCountRef } from '../windows/schema.ts';
import { constraintViolations } from './constraint-violations-json.ts';
import { MAX_JOB_WINDOW_DAYS, type MonitoringJobInput, withinWindow } from './service.ts';
import { EXECUTION_STATUSES, EXECUTION_TRIGGERS, type ExecutionRecord } from './types.ts';

export const ExecutionStatusEnum = builder.enumType('MonitoringExecutionStatus', { values: EXECUTION_STATUSES });
const TriggerEnum = builder.enumType('MonitoringTrigger', { values: EXECUTION_TRIGGERS });

export const ExecutionRef = builder.objectRef<ExecutionRecord>('MonitoringExecution').implement({
  description:
    'One run of the checks over the captures in [windowStart, windowEnd): of a schedule, or ad hoc (runMonitoringJob)',
  fields: (t) => ({
    id: t.exposeID('id'),
    schedule: t.string({
      nullable: true,
      description: 'null for an ad-hoc execution (trigger AD_HOC)',
      resolve: (e) => e.scheduleName,
    }),
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
    insufficientData: t.exposeBoolean('insufficientData', {
      description:
        'fewer captures than the minimum sample size: no check judged, and only counts were emitted as metrics (insufficient_data = 1)',
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
    externalChecks: t.field({
      type: [ExternalCheckRunRef],
      description:
        "each external check's run: its status, and for a failed one why and its stderr's tail (the execution completes without it)",
      resolve: (e) => e.externalChecks,
    }),
    metrics: t.field({ type: [MetricRef], resolve: (e, _args, { loaders }) => loaders.metricsOfExecution.load(e.id) }),
    startedAt: t.field({ type: 'DateTime', resolve: (e) => e.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.finishedAt }),
    constraintViolationsUrl: t.string({ resolve: (e) => `/executions/${e.id}/constraint_violations.json` }),
    statistics: t.field({
      type: 'JSON',
      nullable: true,
      description: "statistics.json of the window (Model Monitor's shape, as a baseline's); null until it finishes",
      resolve: (e, _args, { services }) => services.monitor.executions.statistics(e.id),
    }),
    statisticsUrl: t.string({ resolve: (e) => `/executions/${e.id}/statistics.json` }),
    captures: t.field({
      type: CaptureConnectionRef,
      description:
        'The captures of the window, newest first, as `captures(endpoint, filter: { execution })` lists them (NotFoundError once the endpoint is deleted)',
      errors: {
        types: [NotFoundError, ValidationError],
        result: { name: 'MonitoringExecutionCaptureList' },
        dataField: { name: 'captures' },
      },
      args: { first: t.arg.int(), after: t.arg.string(), filter: t.arg({ type: CaptureFilterInput }) },
      resolve: (e, { first, after, filter }, { services }) =>
        services.captures.list(e.endpointName, {
          first,
          after,
          filter: withinWindow(filter ?? {}, e),
        }),
    }),
    classesChartUrl: t.string({
      description: 'a PNG bar chart of the class counts',
      resolve: (e) => `/executions/${e.id}/classes.png`,
    }),
  }),
});

const MonitoringJobInputRef = builder.inputRef<MonitoringJobInput>('MonitoringJobInput').implement({
  fields: (t) => ({
    endpoint: t.string({ required: true }),
    from: t.field({ type: 'DateTime', required: true, description: 'inclusive' }),
    to: t.field({
      type: 'DateTime',
      required: true,
      description: `exclusive; after from, not in the future, at most ${MAX_JOB_WINDOW_DAYS} days after from`,
    }),
    checks: t.field({ type: ChecksInputRef, description: "over the defaults a new schedule's checks have" }),
    baseline: t.string({ description: 'a baseline of the endpoint, by name or id: drift is checked against it' }),
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
    description:
      "A schedule's executions (newest window first), or an endpoint's — its schedules' and its ad-hoc ones (newest first) —, optionally of one status and trigger (first: 1–500, default 20). Give schedule or endpoint.",
    errors: {
      types: [NotFoundError, ValidationError],
      result: { name: 'MonitoringExecutionList' },
      dataField: { name: 'executions' },
    },
    args: {
      schedule: t.arg.string(),
      endpoint: t.arg.string(),
      status: t.arg({ type: ExecutionStatusEnum }),
      trigger: t.arg({ type: TriggerEnum }),
      first: t.arg.int(),
    },
    resolve: (_root, { schedule, endpoint, ...args }, { services }) =>
      services.monitor.executions.list({ schedule, endpoint }, args),
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
  runMonitoringJob: t.field({
    type: ExecutionRef,
    description:
      "Runs the checks now over the endpoint's captures in [from, to), recorded as an AD_HOC execution that belongs to no schedule: no schedule's windows move, and no alert is published",
    errors: { types: [NotFoundError, ValidationError] },
    args: { input: t.arg({ type: MonitoringJobInputRef, required: true }) },
    resolve: (_root, { input }, { services }) => services.monitor.executions.runJob(input),
  }),
}));
