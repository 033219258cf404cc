/** A window's class counts as a list of every class, shared by baselines, executions and the chart. */
import { classLabel } from '../../models/catalog.ts';

export interface ClassCount {
  classId: number;
  label: string;
  count: number;
  /** of the predictions with a class, 0–1 */
  share: number;
}

/** every class of the model (`labels`: ModelCatalog.labels) and any other class counted, in class order */
export function classCountList(
  counts: Record<string, number> | null,
  labels: readonly string[] | undefined,
): ClassCount[] {
  const byClass = counts ?? {};
  const highest = Math.max(-1, ...Object.keys(byClass).map(Number));
  const classes = Math.max(labels?.length ?? 0, highest + 1);
  const total = Object.values(byClass).reduce((s, n) => s + n, 0);
  return Array.from({ length: classes }, (_, classId) => {
    const count = byClass[String(classId)] ?? 0;
    return { classId, label: classLabel(labels, classId), count, share: total ? count / total : 0 };
  });
}
