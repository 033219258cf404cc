/**
 * A baseline's accuracy: made from the labelled captures of its window when it is created (Model
 * Monitor's `multiclass_classification_metrics` in statistics.json), and read by the model-quality
 * check's tolerance.
 */
import { ValidationError } from '../../errors.ts';
import type { ChecksConfig } from '../checks/types.ts';
import { accuracyStandardError, type QualityMeasures } from '../quality/report.ts';
import type { BaselineRecord, ClassificationStatistics, Statistics } from './types.ts';

/** the statistics of labelled captures; undefined without any */
export function classificationStatistics(measures: QualityMeasures): ClassificationStatistics | undefined {
  if (measures.accuracy === null) return undefined;
  return {
    labelled_count: measures.labelledCount,
    accuracy: {
      value: measures.accuracy,
      standard_deviation: accuracyStandardError(measures.accuracy, measures.labelledCount),
    },
    confusion_matrix: measures.confusionMatrix,
  };
}

/** the accuracy a baseline recorded; null when its window had no labelled captures */
export function baselineAccuracy(statistics: Statistics): number | null {
  return statistics.multiclass_classification_metrics?.accuracy.value ?? null;
}

/** a tolerance against the baseline's accuracy needs a baseline that has one (schedules and ad-hoc runs) */
export function requireAccuracy(checks: ChecksConfig, baseline: BaselineRecord | null): void {
  const { enabled, baselineTolerance } = checks.modelQuality;
  if (!enabled || baselineTolerance === null || !baseline) return;
  if (baselineAccuracy(baseline.statistics) === null)
    throw new ValidationError(
      'checks.modelQuality.baselineTolerance',
      `baseline '${baseline.name}' has no accuracy: its window had no captures with a true label when it was made (putGroundTruth, then create the baseline)`,
    );
}
