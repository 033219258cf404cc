/**
 * Completeness: captures whose output cannot be read (no output, or no predicted class or
 * confidence in it) — the monitor cannot judge those predictions at all.
 */
import { FEATURE } from '../baselines/types.ts';
import { type CheckContext, type CheckResult, percent } from './types.ts';

export function completenessCheck({ counts, checks }: CheckContext): CheckResult {
  const total = counts.recordCount;
  const share = total ? (total - counts.missingCount) / total : 1;
  const metrics = { non_null_share: share };
  const { enabled, minNonNullShare } = checks.completeness;
  if (!enabled || total === 0 || share >= minNonNullShare) return { violations: [], metrics };
  return {
    metrics,
    violations: [
      {
        featureName: FEATURE.predictedClass,
        constraintCheckType: 'completeness_check',
        description:
          `Completeness ${percent(share)} of ${FEATURE.predictedClass} is below the ${percent(minNonNullShare)} threshold: ` +
          `${counts.missingCount} of ${total} captured outputs could not be read`,
      },
    ],
  };
}
