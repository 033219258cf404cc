/** A baseline's record and its statistics.json / constraints.json shapes, independent of Prisma and GraphQL. */
import type { QuantilePoint } from '../windows/distributions.ts';

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
