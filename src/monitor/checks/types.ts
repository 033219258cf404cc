/** What every check receives and returns. */
import type { BaselineView } from '../baselines/statistics-json.ts';
import type { ChecksConfig, Violation, WindowCounts } from '../baselines/types.ts';

export interface CheckContext {
  counts: WindowCounts;
  checks: ChecksConfig;
  /** the model's name of a class (its number when the model has no label for it) */
  label: (classId: number) => string;
  /** the model's number of classes */
  classCount: number;
  baseline: BaselineView | null;
}

export interface CheckResult {
  violations: Violation[];
  /** measured whether or not the check is enabled, so the time series has no holes */
  metrics: Record<string, number>;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

/** rows with a predicted class: the denominator of shares of predictions */
export function predictedTotal(counts: WindowCounts): number {
  let total = 0;
  for (const n of counts.classCounts.values()) total += n;
  return total;
}
