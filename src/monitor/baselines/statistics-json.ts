/**
 * statistics.json and constraints.json in SageMaker Model Monitor's shapes, built from window counts,
 * and read back as the view the drift check compares with.
 *
 * Features: `PredictedClass` (String: a categorical distribution over class numbers) and
 * `Confidence` (Fractional: mean, std, min, max, a 10-bucket histogram, and — vigil's additions —
 * `quantiles` at every percent, read from the 1000-bucket histogram so to ±0.001, and that
 * `fine_histogram` itself, which the confidence drift check compares with).
 */
import {
  coarsen,
  histogramQuantile,
  type QuantilePoint,
} from '../windows/distributions.ts';
import {
  EXPORT_BUCKETS,
  FEATURE,
  HISTOGRAM_BUCKETS,
  type Constraints,
  type DriftMethod,
  type NumericalFeatureStatistics,
  type Statistics,
  type StringFeatureStatistics,
  type WindowCounts,
} from './types.ts';

export interface ConfidenceSummary {
  count: number;
  mean: number;
  stdDev: number;
  min: number;
  max: number;
}

export function confidenceSummary(counts: WindowCounts): ConfidenceSummary {
  const { count, sum, sumSquares, min, max } = counts.confidence;
  const mean = count ? sum / count : 0;
  // population std; max(0, …) absorbs rounding when all values are equal
  const variance = count ? Math.max(0, sumSquares / count - mean * mean) : 0;
  return { count, mean, stdDev: Math.sqrt(variance), min: min ?? 0, max: max ?? 0 };
}

export function quantiles(counts: WindowCounts): QuantilePoint[] {
  const { histogram, min, max } = counts.confidence;
  if (counts.confidence.count === 0) return [];
  return Array.from({ length: 101 }, (_, i) => {
    const quantile = i / 100;
    const value = i === 0 ? min! : i === 100 ? max! : histogramQuantile(histogram, quantile, min!, max!);
    return { quantile, value: round(value) };
  });
}

export function buildStatistics(counts: WindowCounts): Statistics {
  const classes = [...counts.classCounts].sort((a, b) => a[0] - b[0]);
  const predicted = classes.reduce((s, [, n]) => s + n, 0);
  const summary = confidenceSummary(counts);
  const predictedClass: StringFeatureStatistics = {
    name: FEATURE.predictedClass,
    inferred_type: 'String',
    string_statistics: {
      common: { num_present: predicted, num_missing: counts.recordCount - predicted },
      distinct_count: classes.length,
      distribution: { categorical: { buckets: classes.map(([k, n]) => ({ value: String(k), count: n })) } },
    },
  };
  const confidence: NumericalFeatureStatistics = {
    name: FEATURE.confidence,
    inferred_type: 'Fractional',
    numerical_statistics: {
      common: { num_present: summary.count, num_missing: counts.recordCount - summary.count },
      mean: round(summary.mean),
      sum: round(counts.confidence.sum),
      std_dev: round(summary.stdDev),
      min: summary.min,
      max: summary.max,
      distribution: {
        kll: {
          buckets: coarsen(counts.confidence.histogram, EXPORT_BUCKETS).map((count, i) => ({
            lower_bound: i / EXPORT_BUCKETS,
            upper_bound: (i + 1) / EXPORT_BUCKETS,
            count,
          })),
        },
      },
      quantiles: quantiles(counts),
      fine_histogram: {
        buckets: HISTOGRAM_BUCKETS,
        counts: counts.confidence.histogram.flatMap((n, i): [number, number][] => (n ? [[i, n]] : [])),
      },
    },
  };
  return { version: 0, dataset: { item_count: counts.recordCount }, features: [predictedClass, confidence] };
}

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
  const completeness = (present: number) => (items ? round(present / items) : 1);
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

/** What the drift check needs of a baseline. */
export interface BaselineView {
  name: string;
  classCounts: Map<number, number>;
  /** HISTOGRAM_BUCKETS buckets (all zero when the statistics have none) */
  confidenceHistogram: number[];
  confidenceMean: number;
  constraints: Constraints['monitoring_config']['distribution_constraints'];
}

export function baselineView(name: string, statistics: Statistics, constraints: Constraints): BaselineView {
  const cls = statistics.features.find((f): f is StringFeatureStatistics => f.name === FEATURE.predictedClass && 'string_statistics' in f);
  const conf = statistics.features.find((f): f is NumericalFeatureStatistics => f.name === FEATURE.confidence && 'numerical_statistics' in f);
  const classCounts = new Map<number, number>();
  for (const b of cls?.string_statistics.distribution.categorical.buckets ?? []) classCounts.set(Number(b.value), b.count);
  return {
    name,
    classCounts,
    confidenceHistogram: denseHistogram(conf?.numerical_statistics.fine_histogram),
    confidenceMean: conf?.numerical_statistics.mean ?? 0,
    constraints: constraints.monitoring_config.distribution_constraints,
  };
}

function denseHistogram(fine: { buckets: number; counts: [number, number][] } | undefined): number[] {
  const dense = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
  // a histogram of another resolution is mapped onto ours by bucket position
  for (const [bucket, count] of fine?.counts ?? []) {
    dense[Math.min(HISTOGRAM_BUCKETS - 1, Math.floor((bucket * HISTOGRAM_BUCKETS) / fine!.buckets))]! += count;
  }
  return dense;
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
