/**
 * Completeness: captures whose output cannot be read (no output, or no predicted class or
 * confidence in it) — the monitor cannot judge those predictions at all. An endpoint capturing its
 * inputs only stores no output by design: there is nothing to be complete, so no metric and no violation.
 */
import { FEATURE } from '../baselines/types.ts';
import { type CheckContext, type CheckResult, percent } from './types.ts';

export function completenessCheck({ counts, checks, outputsCaptured }: CheckContext): CheckResult {
  const total = counts.recordCount;
  if (!outputsCaptured || total === 0) return { violations: [], metrics: {} };
  const share = (total - counts.missingCount) / total;
  const metrics = { non_null_share: share };
  const { enabled, minNonNullShare } = checks.completeness;
  if (!enabled || share >= minNonNullShare) return { violations: [], metrics };
  return {
    metrics,
    violations: [
      {
        check: 'COMPLETENESS',
        featureName: FEATURE.predictedClass,
        constraintCheckType: 'completeness_check',
        description:
          `Completeness ${percent(share)} of ${FEATURE.predictedClass} is below the ${percent(minNonNullShare)} threshold: ` +
          `${counts.missingCount} of ${total} captured outputs could not be read`,
      },
    ],
  };
}
