/**
 * Runs the checks over a window's counts. Below the minimum sample size no check judges (a handful of
 * predictions says little), and the execution reports insufficient data instead: it keeps the counts
 * (`record_count`, `class_count_<k>`) but emits none of the shares, means and distances, which a few
 * predictions (or none) would make up, and sets `insufficient_data` to 1 (0 otherwise) so that alert
 * rules can tell a quiet window from a healthy one.
 */
import { classShareCheck } from './class-share.ts';
import { completenessCheck } from './completeness.ts';
import { driftCheck } from './drift.ts';
import { lowConfidenceCheck } from './low-confidence.ts';
import type { CheckContext, Violation } from './types.ts';

export type { CheckContext, CheckResult } from './types.ts';

/** in the order their violations are listed (the first one makes the execution's message) */
const CHECKS = [classShareCheck, lowConfidenceCheck, completenessCheck, driftCheck];

export interface ChecksOutcome {
  violations: Violation[];
  metrics: Record<string, number>;
  /** set when the window is below the minimum sample size */
  insufficientData: string | null;
}

export function runChecks(context: CheckContext): ChecksOutcome {
  const metrics: Record<string, number> = { record_count: context.counts.recordCount };
  const violations: Violation[] = [];
  for (const check of CHECKS) {
    const result = check(context);
    Object.assign(metrics, result.metrics);
    violations.push(...result.violations);
  }
  const { recordCount } = context.counts;
  const minimum = context.checks.minSampleSize;
  if (recordCount < minimum) {
    return {
      violations: [],
      metrics: { ...countsOnly(metrics), insufficient_data: 1 },
      insufficientData: `insufficient data: ${recordCount} capture${recordCount === 1 ? '' : 's'} in the window, fewer than the minimum sample size of ${minimum}`,
    };
  }
  metrics.violation_count = violations.length;
  metrics.insufficient_data = 0;
  return { violations, metrics, insufficientData: null };
}

/** the metrics that are counts of the window, true whatever its size */
function countsOnly(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(metrics).filter(([name]) => name === 'record_count' || name.startsWith('class_count_')),
  );
}
