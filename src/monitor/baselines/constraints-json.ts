/** constraints.json in SageMaker Model Monitor's shape, suggested from a baseline's statistics. */
import { roundStatistic } from './statistics-json.ts';
import type {
  Constraints,
  DriftMethod,
  NumericalFeatureStatistics,
  Statistics,
  StringFeatureStatistics,
} from './types.ts';

export interface ConstraintOptions {
  driftMethod?: DriftMethod;
  /** LInfinity distance, or ChiSquared p-value (default 0.1, SageMaker's) */
  categoricalThreshold?: number;
  /** the confidence distribution's KS distance (default 0.1) */
  confidenceThreshold?: number;
}

/** Suggested constraints: the completeness and class domain observed, and drift thresholds. */
export function suggestConstraints(statistics: Statistics, options: ConstraintOptions = {}): Constraints {
  const items = statistics.dataset.item_count;
  const completeness = (present: number) => (items ? roundStatistic(present / items) : 1);
  const [cls, conf] = statistics.features as [StringFeatureStatistics, NumericalFeatureStatistics];
  return {
    version: 0,
    features: [
      {
        name: cls.name,
        inferred_type: 'String',
        completeness: completeness(cls.string_statistics.common.num_present),
        string_constraints: { domains: cls.string_statistics.distribution.categorical.buckets.map((b) => b.value) },
      },
      {
        name: conf.name,
        inferred_type: 'Fractional',
        completeness: completeness(conf.numerical_statistics.common.num_present),
        num_constraints: { is_non_negative: conf.numerical_statistics.min >= 0 },
      },
    ],
    monitoring_config: {
      evaluate_constraints: 'Enabled',
      emit_metrics: 'Enabled',
      datatype_check_threshold: 0.1,
      domain_content_threshold: 0.1,
      distribution_constraints: {
        perform_comparison: 'Enabled',
        comparison_threshold: options.confidenceThreshold ?? 0.1,
        comparison_method: 'Robust',
        categorical_comparison_threshold: options.categoricalThreshold ?? 0.1,
        categorical_drift_method: options.driftMethod ?? 'LInfinity',
      },
    },
  };
}
