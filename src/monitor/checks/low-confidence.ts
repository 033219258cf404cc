/**
 * Low confidence: the share of predictions whose top-3 scores are all below `confidenceThreshold`
 * — the top-1 score is the largest, so that is `confidence < confidenceThreshold` — above `maxShare`.
 */
import { FEATURE } from '../baselines/types.ts';
import { type CheckContext, type CheckResult, percent } from './types.ts';

export function lowConfidenceCheck({ counts, checks }: CheckContext): CheckResult {
  const scored = counts.confidence.count;
  // no confidence to average: the metrics are left out, not 0
  if (scored === 0) return { violations: [], metrics: {} };
  const share = counts.lowConfidenceCount / scored;
  const metrics = { low_confidence_share: share, confidence_mean: counts.confidence.sum / scored };
  const { enabled, confidenceThreshold, maxShare } = checks.lowConfidence;
  if (!enabled || share <= maxShare) return { violations: [], metrics };
  return {
    metrics,
    violations: [
      {
        check: 'LOW_CONFIDENCE',
        featureName: FEATURE.confidence,
        constraintCheckType: 'baseline_drift_check',
        description:
          `${percent(share)} of predictions (${counts.lowConfidenceCount} of ${scored}) had all top-3 scores below ` +
          `${confidenceThreshold}: exceeded ${percent(maxShare)} threshold`,
      },
    ],
  };
}
