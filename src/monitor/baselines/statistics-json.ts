/**
 * statistics.json in SageMaker Model Monitor's shape, built from window counts.
 *
 * Features: `PredictedClass` (String: a categorical distribution over class numbers) and
 * `Confidence` (Fractional: mean, std, min, max, a 10-bucket histogram, and — vigil's additions —
 * `quantiles` at every percent, read from the 1000-bucket histogram so to ±0.001, and that
 * `fine_histogram` itself, which the confidence drift check compares with).
 */
import { HISTOGRAM_BUCKETS, type WindowCounts } from '../windows/counts.ts';
import { coarsen, histogramQuantile, type QuantilePoint } from '../windows/distributions.ts';
import { FEATURE, type NumericalFeatureStatistics, type Statistics, type StringFeatureStatistics } from './types.ts';

/** the histogram statistics.json exports */
const EXPORT_BUCKETS = 10;

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
    return { quantile, value: roundStatistic(value) };
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
      // no confidence at all: no moments, rather than zeros nothing measured
      ...(summary.count
        ? {
            mean: roundStatistic(summary.mean),
            sum: roundStatistic(counts.confidence.sum),
            std_dev: roundStatistic(summary.stdDev),
            min: summary.min,
            max: summary.max,
          }
        : {}),
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

/** to 9 decimal places, as statistics.json and constraints.json store derived numbers */
export function roundStatistic(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
