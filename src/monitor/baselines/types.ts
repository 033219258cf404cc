/** The Model Monitor's records, independent of Prisma and GraphQL. */
import type { QuantilePoint } from '../windows/distributions.ts';

export const EXECUTION_STATUSES = ['Pending', 'InProgress', 'Completed', 'CompletedWithViolations', 'Failed'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const EXECUTION_TRIGGERS = ['SCHEDULED', 'MANUAL'] as const;
export type ExecutionTrigger = (typeof EXECUTION_TRIGGERS)[number];

export const DRIFT_METHODS = ['LInfinity', 'ChiSquared'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

export const BASELINE_SOURCES = ['WINDOW', 'DIRECTORY'] as const;
export type BaselineSource = (typeof BASELINE_SOURCES)[number];

/** The feature names of violations and statistics, as SageMaker names columns. */
export const FEATURE = { predictedClass: 'PredictedClass', confidence: 'Confidence' } as const;

export interface ChecksConfig {
  classShare: { enabled: boolean; threshold: number };
  lowConfidence: { enabled: boolean; confidenceThreshold: number; maxShare: number };
  completeness: { enabled: boolean; minNonNullShare: number };
  /** thresholds left null come from the baseline's constraints */
  drift: {
    enabled: boolean;
    lInfinityThreshold: number | null;
    chiSquaredPValue: number | null;
    confidenceShiftThreshold: number | null;
  };
  minSampleSize: number;
}

type NestedPatch<T> = { [K in keyof T]?: T[K] extends object ? { [F in keyof T[K]]?: T[K][F] | null } | null : T[K] | null };
/** what a client sends: any part may be left out to keep the default (or current) value */
export type ChecksInput = NestedPatch<ChecksConfig>;

export interface Violation {
  featureName: string;
  constraintCheckType: 'baseline_drift_check' | 'completeness_check' | 'data_type_check' | 'categorical_values_check';
  description: string;
}

/**
 * What the database counted over a window (or what a directory's predictions add up to).
 * Confidence buckets are HISTOGRAM_BUCKETS equal slices of [0, 1].
 */
export interface WindowCounts {
  recordCount: number;
  /** predictedClass → count (rows with a class) */
  classCounts: Map<number, number>;
  /** rows without a predicted class or without a confidence: outputs that could not be read */
  missingCount: number;
  /** rows with a confidence below the low-confidence threshold asked for */
  lowConfidenceCount: number;
  confidence: {
    count: number;
    sum: number;
    sumSquares: number;
    min: number | null;
    max: number | null;
    histogram: number[];
  };
}

export const HISTOGRAM_BUCKETS = 1000;
/** the histogram statistics.json exports and the PNG draws */
export const EXPORT_BUCKETS = 10;

export interface BaselineRecord {
  id: string;
  endpointId: string;
  endpointName: string;
  model: string;
  name: string;
  source: BaselineSource;
  itemCount: number;
  statistics: Statistics;
  constraints: Constraints;
  createdAt: Date;
}

/** statistics.json (SageMaker Model Monitor's shape; `quantiles` and `fine_histogram` are vigil's additions) */
export interface Statistics {
  version: 0;
  dataset: { item_count: number };
  features: (StringFeatureStatistics | NumericalFeatureStatistics)[];
}

export interface StringFeatureStatistics {
  name: string;
  inferred_type: 'String';
  string_statistics: {
    common: { num_present: number; num_missing: number };
    distinct_count: number;
    distribution: { categorical: { buckets: { value: string; count: number }[] } };
  };
}

export interface NumericalFeatureStatistics {
  name: string;
  inferred_type: 'Fractional';
  numerical_statistics: {
    common: { num_present: number; num_missing: number };
    mean: number;
    sum: number;
    std_dev: number;
    min: number;
    max: number;
    distribution: { kll: { buckets: { lower_bound: number; upper_bound: number; count: number }[] } };
    quantiles: QuantilePoint[];
    /** the non-zero buckets of HISTOGRAM_BUCKETS equal buckets over [0, 1], as [bucket, count] */
    fine_histogram: { buckets: number; counts: [number, number][] };
  };
}

/** constraints.json (SageMaker Model Monitor's shape) */
export interface Constraints {
  version: 0;
  features: {
    name: string;
    inferred_type: 'String' | 'Fractional';
    completeness: number;
    num_constraints?: { is_non_negative: boolean };
    string_constraints?: { domains: string[] };
  }[];
  monitoring_config: {
    evaluate_constraints: 'Enabled' | 'Disabled';
    emit_metrics: 'Enabled' | 'Disabled';
    datatype_check_threshold: number;
    domain_content_threshold: number;
    distribution_constraints: {
      perform_comparison: 'Enabled' | 'Disabled';
      /** the confidence distribution's allowed KS distance */
      comparison_threshold: number;
      comparison_method: 'Simple' | 'Robust';
      /** LInfinity: the allowed distance; ChiSquared: the p-value below which it is drift */
      categorical_comparison_threshold: number;
      categorical_drift_method: DriftMethod;
    };
  };
}

export interface ScheduleRecord {
  id: string;
  name: string;
  endpointId: string;
  endpointName: string;
  model: string;
  cron: string;
  checks: ChecksConfig;
  baselineId: string | null;
  nextRunAt: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ExecutionRecord {
  id: string;
  scheduleId: string;
  scheduleName: string;
  endpointName: string;
  model: string;
  trigger: ExecutionTrigger;
  status: ExecutionStatus;
  /** inclusive */
  windowStart: Date;
  /** exclusive */
  windowEnd: Date;
  recordCount: number;
  classCounts: Record<string, number> | null;
  message: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface MetricPoint {
  name: string;
  value: number;
  timestamp: Date;
  executionId: string;
}

/** the `monitorAlert` event: JSON-safe (it crosses Redis between replicas) */
export interface MonitorAlert {
  endpoint: string;
  schedule: string;
  executionId: string;
  status: ExecutionStatus;
  message: string | null;
  windowStart: string;
  windowEnd: string;
  recordCount: number;
  violations: Violation[];
  at: string;
}
