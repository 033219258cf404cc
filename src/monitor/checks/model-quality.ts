/**
 * Model quality: over the labelled captures of the execution's window shifted back by the ground-truth
 * delay, accuracy, macro F1 and per-class precision and recall as metrics, and violations shaped as
 * Model Monitor's model-quality ones, e.g.
 *   {"metric_name":"accuracy","constraint_check_type":"LessThanThreshold","description":"Metric accuracy with 0.5 was LessThanThreshold '0.8'"}
 * Below the schedule's minimum sample size of labelled captures it measures but does not judge.
 */
import type { QualityMeasures } from '../quality/report.ts';
import type { ModelQualityConfig, Violation } from './types.ts';

export interface ModelQualityContext {
  measures: QualityMeasures;
  config: ModelQualityConfig;
  label: (classId: number) => string;
  /** the schedule's baseline, with its accuracy when it has one */
  baseline: { name: string; accuracy: number | null } | null;
  minSampleSize: number;
}

export interface ModelQualityResult {
  violations: Violation[];
  /** `ground_truth_count`; with labels, `accuracy`, `macro_f1`, `precision_<class>`, `recall_<class>` */
  metrics: Record<string, number>;
  /** set when there are fewer labelled captures than the minimum sample size */
  insufficientData: string | null;
}

export function modelQualityCheck({
  measures,
  config,
  label,
  baseline,
  minSampleSize,
}: ModelQualityContext): ModelQualityResult {
  const { labelledCount: n, accuracy, macroF1 } = measures;
  const metrics: Record<string, number> = { ground_truth_count: n };
  // no labels: no accuracy at all (not a made-up 0)
  if (accuracy !== null) metrics.accuracy = accuracy;
  if (macroF1 !== null) metrics.macro_f1 = macroF1;
  for (const c of measures.classes) {
    if (c.precision !== null) metrics[`precision_${c.classId}`] = c.precision;
    if (c.recall !== null) metrics[`recall_${c.classId}`] = c.recall;
  }
  if (n < minSampleSize) {
    return {
      violations: [],
      metrics,
      insufficientData: `insufficient ground truth: ${n} labelled capture${n === 1 ? '' : 's'} in the model-quality window, fewer than the minimum sample size of ${minSampleSize}`,
    };
  }
  const violations: Violation[] = [];
  const below = (metric: string, value: number, threshold: number, note = '') =>
    violations.push({
      check: 'MODEL_QUALITY',
      featureName: metric,
      constraintCheckType: 'LessThanThreshold',
      description: `Metric ${metric} with ${round(value)} was LessThanThreshold '${round(threshold)}'${note}`,
    });
  if (accuracy !== null && config.minAccuracy !== null && accuracy < config.minAccuracy) {
    below('accuracy', accuracy, config.minAccuracy);
  }
  if (accuracy !== null && config.baselineTolerance !== null && baseline?.accuracy != null) {
    const threshold = baseline.accuracy - config.baselineTolerance;
    if (accuracy < threshold)
      below(
        'accuracy',
        accuracy,
        threshold,
        ` (baseline '${baseline.name}' accuracy ${round(baseline.accuracy)} − tolerance ${round(config.baselineTolerance)})`,
      );
  }
  const recalls = new Map(measures.classes.map((c) => [c.classId, c.recall]));
  for (const { classId, min } of config.minRecall) {
    const recall = recalls.get(classId);
    if (recall !== null && recall !== undefined && recall < min)
      below(`recall_${classId}`, recall, min, ` (class ${classId}, ${label(classId)})`);
  }
  return { violations, metrics, insufficientData: null };
}

/** 4 significant decimals, as a description shows them */
function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
