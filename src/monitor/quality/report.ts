/**
 * Model quality from labelled captures counted by (predicted, true) class: accuracy, per-class
 * precision, recall and F1, macro F1, and the confusion matrix. Pure; no I/O.
 *
 * Macro F1 averages F1 over every class that was predicted or labelled in the window (scikit-learn's
 * `f1_score(average="macro")` with `zero_division=0`): a class never predicted has F1 0, and so does a
 * class predicted but never the truth. A class's precision is absent (null) when it was never predicted,
 * its recall when it was never the truth, rather than a made-up 0 or 1.
 */
import type { ConfusionCell } from '../../groundtruth/types.ts';

export interface ClassQuality {
  classId: number;
  /** labelled captures whose true class it is */
  support: number;
  /** labelled captures predicted as it */
  predicted: number;
  /** of the captures predicted as it, the share that are it; null when never predicted */
  precision: number | null;
  /** of the captures that are it, the share predicted as it; null when never the truth */
  recall: number | null;
  f1: number;
}

export interface ModelQualityReport {
  /** the window evaluated: the execution's shifted back by the ground-truth delay (ISO-8601) */
  windowStart: string;
  windowEnd: string;
  /** labels received at or before this instant (the execution's start) were counted */
  labelsReceivedBy: string;
  groundTruthDelaySeconds: number;
  /** labelled captures in the window (with a predicted class) */
  labelledCount: number;
  /** null without labelled captures */
  accuracy: number | null;
  macroF1: number | null;
  /** the classes predicted or labelled in the window, by class number */
  classes: ClassQuality[];
  /** Model Monitor's shape: true class → predicted class → count (cells with a count only) */
  confusionMatrix: Record<string, Record<string, number>>;
  /** the schedule's baseline's accuracy, when the tolerance against it is checked */
  baselineAccuracy: number | null;
}

export interface QualityMeasures {
  labelledCount: number;
  accuracy: number | null;
  macroF1: number | null;
  classes: ClassQuality[];
  confusionMatrix: Record<string, Record<string, number>>;
}

export function measureQuality(cells: readonly ConfusionCell[]): QualityMeasures {
  let total = 0;
  let correct = 0;
  const support = new Map<number, number>();
  const predicted = new Map<number, number>();
  const hits = new Map<number, number>();
  const matrix: Record<string, Record<string, number>> = {};
  const sorted = [...cells].sort((a, b) => a.actual - b.actual || a.predicted - b.predicted);
  for (const { predicted: p, actual: a, count } of sorted) {
    if (count <= 0) continue;
    total += count;
    support.set(a, (support.get(a) ?? 0) + count);
    predicted.set(p, (predicted.get(p) ?? 0) + count);
    if (p === a) {
      correct += count;
      hits.set(a, (hits.get(a) ?? 0) + count);
    }
    const row = (matrix[String(a)] ??= {});
    row[String(p)] = (row[String(p)] ?? 0) + count;
  }
  const classIds = [...new Set([...support.keys(), ...predicted.keys()])].sort((a, b) => a - b);
  const classes = classIds.map((classId): ClassQuality => {
    const s = support.get(classId) ?? 0;
    const n = predicted.get(classId) ?? 0;
    const h = hits.get(classId) ?? 0;
    const precision = n ? h / n : null;
    const recall = s ? h / s : null;
    const f1 = precision && recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { classId, support: s, predicted: n, precision, recall, f1 };
  });
  return {
    labelledCount: total,
    accuracy: total ? correct / total : null,
    macroF1: classes.length ? classes.reduce((sum, c) => sum + c.f1, 0) / classes.length : null,
    classes,
    confusionMatrix: matrix,
  };
}

/** the cells of a confusion matrix in Model Monitor's shape (true → predicted → count) */
export function cellsOf(matrix: Record<string, Record<string, number>>): ConfusionCell[] {
  return Object.entries(matrix).flatMap(([actual, row]) =>
    Object.entries(row).map(([p, count]) => ({ actual: Number(actual), predicted: Number(p), count })),
  );
}

/** the binomial standard error of an accuracy over `n` labels (what a baseline reports beside it) */
export function accuracyStandardError(accuracy: number, n: number): number {
  return n > 0 ? Math.sqrt((accuracy * (1 - accuracy)) / n) : 0;
}
