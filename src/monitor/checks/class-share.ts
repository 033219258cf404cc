/**
 * Class share: one class predicted more than `threshold` of the time (a stuck model, or inputs
 * that all look alike) — e.g. `Class 14 (Stop) predicted 80.50% of the time: exceeded 50.00% threshold`.
 */
import { FEATURE } from '../baselines/types.ts';
import { type CheckContext, type CheckResult, percent, predictedTotal, type Violation } from './types.ts';

export function classShareCheck({ counts, checks, label, classCount }: CheckContext): CheckResult {
  const total = predictedTotal(counts);
  const metrics: Record<string, number> = {};
  for (let k = 0; k < classCount; k++) metrics[`class_count_${k}`] = counts.classCounts.get(k) ?? 0;
  for (const [k, n] of counts.classCounts) metrics[`class_count_${k}`] = n;
  const shares = [...counts.classCounts].map(([classId, n]) => ({ classId, share: total ? n / total : 0 }));
  shares.sort((a, b) => b.share - a.share || a.classId - b.classId);
  if (total > 0) metrics.max_class_share = shares[0]!.share;

  const violations: Violation[] = [];
  const { enabled, threshold } = checks.classShare;
  if (enabled && total > 0) {
    for (const { classId, share } of shares) {
      if (share <= threshold) break;
      violations.push({
        check: 'CLASS_SHARE',
        featureName: FEATURE.predictedClass,
        constraintCheckType: 'baseline_drift_check',
        description: `Class ${classId} (${label(classId)}) predicted ${percent(share)} of the time: exceeded ${percent(threshold)} threshold`,
      });
    }
  }
  return { violations, metrics };
}
