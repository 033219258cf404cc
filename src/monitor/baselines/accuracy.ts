/**
 * A baseline's accuracy: made from the labelled captures of its window when it is created (Model
 * Monitor's `multiclass_classification_metrics` in statistics.json), and read by the model-quality
 * check's tolerance.
 */
import { accuracyStandardError, type QualityMeasures } from '../quality/report.ts';
import type { ClassificationStatistics, Statistics } from './types.ts';

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
