/** A baseline's statistics.json and constraints.json read back as what the drift check compares with. */
import { HISTOGRAM_BUCKETS } from '../windows/counts.ts';
import {
  type Constraints,
  FEATURE,
  type NumericalFeatureStatistics,
  type Statistics,
  type StringFeatureStatistics,
} from './types.ts';

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
  const cls = statistics.features.find(
    (f): f is StringFeatureStatistics => f.name === FEATURE.predictedClass && 'string_statistics' in f,
  );
  const conf = statistics.features.find(
    (f): f is NumericalFeatureStatistics => f.name === FEATURE.confidence && 'numerical_statistics' in f,
  );
  const classCounts = new Map<number, number>();
  for (const b of cls?.string_statistics.distribution.categorical.buckets ?? [])
    classCounts.set(Number(b.value), b.count);
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
