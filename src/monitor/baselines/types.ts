/** A baseline's record and its statistics.json / constraints.json shapes, independent of Prisma and GraphQL. */
import type { QuantilePoint } from '../windows/distributions.ts';
import type { InputProfile } from './input-profile.ts';

export const DRIFT_METHODS = ['LInfinity', 'ChiSquared'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

export const BASELINE_SOURCES = ['WINDOW', 'DIRECTORY'] as const;
export type BaselineSource = (typeof BASELINE_SOURCES)[number];

/** The feature names of violations and statistics, as SageMaker names columns. */
export const FEATURE = { predictedClass: 'PredictedClass', confidence: 'Confidence' } as const;

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
  /** what input drift and outlier scores compare with; null when the reference had no features */
  inputProfile: InputProfile | null;
  createdAt: Date;
}

/** statistics.json (SageMaker Model Monitor's shape; `quantiles` and `fine_histogram` are vigil's additions) */
export interface Statistics {
  version: 0;
  dataset: { item_count: number };
  features: (StringFeatureStatistics | NumericalFeatureStatistics)[];
  /** Model Monitor's model-quality statistics, from the window's labelled captures (absent without any) */
  multiclass_classification_metrics?: ClassificationStatistics;
}

/** the part of Model Monitor's model-quality statistics.json vigil computes (`labelled_count` is vigil's) */
export interface ClassificationStatistics {
  labelled_count: number;
  accuracy: { value: number; standard_deviation: number };
  /** true class → predicted class → count */
  confusion_matrix: Record<string, Record<string, number>>;
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
    /** mean, sum, std_dev, min and max are left out when no value is present (an empty window) */
    mean?: number;
    sum?: number;
    std_dev?: number;
    min?: number;
    max?: number;
    distribution: { kll: { buckets: { lower_bound: number; upper_bound: number; count: number }[] } };
    quantiles: QuantilePoint[];
    /** the non-zero buckets of HISTOGRAM_BUCKETS equal buckets over [0, 1], as [bucket, count] */
    fine_histogram: { buckets: number; counts: [number, number][] };
  };
}

/**
 * constraints.json in SageMaker Model Monitor's shape, holding only what vigil enforces: the features
 * the drift check compares, and its distribution constraints. (Model Monitor's per-feature completeness,
 * domains and non-negativity, and its datatype/domain thresholds, are checks vigil does not run, so
 * they are neither suggested nor accepted; completeness is the schedule's `checks.completeness`.)
 */
export interface Constraints {
  version: 0;
  features: { name: string; inferred_type: 'String' | 'Fractional' }[];
  monitoring_config: {
    distribution_constraints: {
      /** Disabled: the drift check takes its thresholds from the schedule only */
      perform_comparison: 'Enabled' | 'Disabled';
      /** the confidence distribution's allowed KS distance */
      comparison_threshold: number;
      /** LInfinity: the allowed distance; ChiSquared: the p-value below which it is drift */
      categorical_comparison_threshold: number;
      categorical_drift_method: DriftMethod;
    };
  };
}
