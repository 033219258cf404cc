/**
 * An execution's model quality: the labelled captures of its window shifted back by the ground-truth
 * delay, counted in SQL (only labels received by the run's start), measured, checked, and reported.
 *
 * Why shifted: a label arrives after its prediction, often hours later. Like Model Monitor's
 * model-quality job (its start/end time offsets, e.g. -PT2H), an execution whose window is
 * [start, end) judges the predictions of [start − delay, end − delay), whose labels have had `delay` to
 * arrive; consecutive executions still tile, so each prediction is judged once.
 */
import type { LabelledWindows } from '../../groundtruth/types.ts';
import { baselineAccuracy } from '../baselines/accuracy.ts';
import type { Statistics } from '../baselines/types.ts';
import { type ModelQualityResult, modelQualityCheck } from '../checks/model-quality.ts';
import type { ModelQualityConfig } from '../checks/types.ts';
import { type ModelQualityReport, measureQuality } from './report.ts';

export interface ModelQualityRun {
  labelled: LabelledWindows;
  endpointId: string;
  config: ModelQualityConfig;
  /** the execution's window */
  windowStart: Date;
  windowEnd: Date;
  /** the run's start: later labels wait for no one, and are not counted */
  startedAt: Date;
  baseline: { name: string; statistics: Statistics } | null;
  label: (classId: number) => string;
  minSampleSize: number;
}

export async function evaluateModelQuality(
  run: ModelQualityRun,
): Promise<{ report: ModelQualityReport; result: ModelQualityResult }> {
  const delayMs = run.config.groundTruthDelaySeconds * 1000;
  const from = new Date(run.windowStart.getTime() - delayMs);
  const to = new Date(run.windowEnd.getTime() - delayMs);
  const cells = await run.labelled.confusion({ endpointId: run.endpointId, from, to, receivedBy: run.startedAt });
  const measures = measureQuality(cells);
  const baseline = run.baseline && { name: run.baseline.name, accuracy: baselineAccuracy(run.baseline.statistics) };
  const result = modelQualityCheck({
    measures,
    config: run.config,
    label: run.label,
    baseline,
    minSampleSize: run.minSampleSize,
  });
  return {
    result,
    report: {
      windowStart: from.toISOString(),
      windowEnd: to.toISOString(),
      labelsReceivedBy: run.startedAt.toISOString(),
      groundTruthDelaySeconds: run.config.groundTruthDelaySeconds,
      ...measures,
      baselineAccuracy: run.config.baselineTolerance === null ? null : (baseline?.accuracy ?? null),
    },
  };
}
