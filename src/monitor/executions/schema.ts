/** The Model Monitor's GraphQL object types and enums (operations: schema.ts, schema-mutations.ts). */
import { ValidationError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import {
  BASELINE_SOURCES,
  FEATURE,
  DRIFT_METHODS,
  EXECUTION_STATUSES,
  EXECUTION_TRIGGERS,
  type BaselineRecord,
  type ChecksConfig,
  type ExecutionRecord,
  type MetricPoint,
  type MonitorAlert,
  type ScheduleRecord,
  type StringFeatureStatistics,
  type Violation,
} from '../baselines/types.ts';
import { classCountList, constraintViolations, type ClassCount } from '../windows/class-counts.ts';

export const ExecutionStatusEnum = builder.enumType('MonitoringExecutionStatus', { values: EXECUTION_STATUSES });
const TriggerEnum = builder.enumType('MonitoringTrigger', { values: EXECUTION_TRIGGERS });
export const DriftMethodEnum = builder.enumType('CategoricalDriftMethod', { values: DRIFT_METHODS });
const BaselineSourceEnum = builder.enumType('BaselineSource', { values: BASELINE_SOURCES });
export const CronKindEnum = builder.enumType('CronKind', {
  description: "SageMaker CronExpressionGenerator's helpers",
  values: ['HOURLY', 'DAILY', 'EVERY_N_HOURS'] as const,
});

const ClassCountRef = builder.objectRef<ClassCount>('MonitoringClassCount').implement({
  fields: (t) => ({
    classId: t.exposeInt('classId'),
    label: t.exposeString('label'),
    count: t.exposeInt('count'),
    share: t.exposeFloat('share', { description: 'of the predictions with a class, 0–1' }),
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
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.createdAt }),
    statistics: t.field({ type: 'JSON', description: 'statistics.json (SageMaker Model Monitor shape)', resolve: (b) => b.statistics }),
    constraints: t.field({ type: 'JSON', description: 'constraints.json (SageMaker Model Monitor shape)', resolve: (b) => b.constraints }),
    statisticsUrl: t.string({ description: 'path of the statistics.json download', resolve: (b) => `/baselines/${b.id}/statistics.json` }),
    constraintsUrl: t.string({ description: 'path of the constraints.json download', resolve: (b) => `/baselines/${b.id}/constraints.json` }),
    classes: t.field({
      type: [ClassCountRef],
      resolve: (b, _args, { services }) => {
        const feature = b.statistics.features.find((f): f is StringFeatureStatistics => f.name === FEATURE.predictedClass && 'string_statistics' in f);
        const counts = Object.fromEntries((feature?.string_statistics.distribution.categorical.buckets ?? []).map((x) => [x.value, x.count]));
        return classCountList(counts, services.models.labels(b.model));
      },
    }),
  }),
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
const ChecksRef = builder.objectRef<ChecksConfig>('MonitoringChecks').implement({
  fields: (t) => ({
    classShare: t.field({ type: ClassShareCheckRef, resolve: (c) => c.classShare }),
    lowConfidence: t.field({ type: LowConfidenceCheckRef, resolve: (c) => c.lowConfidence }),
    completeness: t.field({ type: CompletenessCheckRef, resolve: (c) => c.completeness }),
    drift: t.field({ type: DriftCheckRef, resolve: (c) => c.drift }),
    minSampleSize: t.exposeInt('minSampleSize', { description: 'below it an execution reports insufficient data' }),
  }),
});

const ViolationRef = builder.objectRef<Violation>('MonitoringViolation').implement({
  fields: (t) => ({
    featureName: t.exposeString('featureName'),
    constraintCheckType: t.exposeString('constraintCheckType'),
    description: t.exposeString('description'),
  }),
});

export const MetricRef = builder.objectRef<MetricPoint>('MonitoringMetric').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    value: t.exposeFloat('value'),
    timestamp: t.field({ type: 'DateTime', description: "the end of the execution's window", resolve: (m) => m.timestamp }),
    executionId: t.exposeID('executionId'),
  }),
});

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
      description: "every class of the model, with its count in the window",
      resolve: (e, _args, { services }) => classCountList(e.classCounts, services.monitor.executions.labels(e.model)),
    }),
    message: t.string({
      description: 'one line, as SageMaker writes it: e.g. "CompletedWithViolations: <first violation>" (the status while running)',
      resolve: (e) => e.message ?? e.status,
    }),
    violations: t.field({ type: [ViolationRef], resolve: (e, _args, { loaders }) => loaders.violationsOfExecution.load(e.id) }),
    constraintViolations: t.field({
      type: 'JSON',
      description: 'constraint_violations.json (SageMaker Model Monitor shape)',
      resolve: async (e, _args, { loaders }) => constraintViolations(await loaders.violationsOfExecution.load(e.id)),
    }),
    metrics: t.field({ type: [MetricRef], resolve: (e, _args, { loaders }) => loaders.metricsOfExecution.load(e.id) }),
    startedAt: t.field({ type: 'DateTime', resolve: (e) => e.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.finishedAt }),
    constraintViolationsUrl: t.string({ resolve: (e) => `/executions/${e.id}/constraint_violations.json` }),
    classesChartUrl: t.string({ description: 'a PNG bar chart of the class counts', resolve: (e) => `/executions/${e.id}/classes.png` }),
  }),
});

export const ScheduleRef = builder.objectRef<ScheduleRecord>('MonitoringSchedule').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    endpoint: t.string({ resolve: (s) => s.endpointName }),
    cron: t.exposeString('cron', { description: '5 fields, UTC' }),
    nextRunAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.nextRunAt }),
    checks: t.field({ type: ChecksRef, resolve: (s) => s.checks }),
    baseline: t.field({
      type: BaselineRef,
      nullable: true,
      resolve: (s, _args, { loaders }) => (s.baselineId ? loaders.baseline.load(s.baselineId) : null),
    }),
    executions: t.field({
      type: [ExecutionRef],
      description: 'newest first (first: 1–500, default 20)',
      errors: { types: [ValidationError], result: { name: 'MonitoringScheduleExecutionList' }, dataField: { name: 'executions' } },
      args: { status: t.arg({ type: ExecutionStatusEnum }), first: t.arg.int() },
      resolve: (s, args, { services }) => services.monitor.executions.list(s.name, args),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (s) => s.updatedAt }),
  }),
});

export const AlertRef = builder.objectRef<MonitorAlert>('MonitorAlert').implement({
  description: 'An execution that completed with violations',
  fields: (t) => ({
    endpoint: t.exposeString('endpoint'),
    schedule: t.exposeString('schedule'),
    executionId: t.exposeID('executionId'),
    status: t.field({ type: ExecutionStatusEnum, resolve: (a) => a.status }),
    message: t.string({ resolve: (a) => a.message ?? a.status }),
    windowStart: t.field({ type: 'DateTime', resolve: (a) => a.windowStart }),
    windowEnd: t.field({ type: 'DateTime', resolve: (a) => a.windowEnd }),
    recordCount: t.exposeInt('recordCount'),
    violations: t.field({ type: [ViolationRef], resolve: (a) => a.violations }),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    execution: t.field({ type: ExecutionRef, nullable: true, resolve: (a, _args, { loaders }) => loaders.execution.load(a.executionId) }),
  }),
});

