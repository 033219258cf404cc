/**
 * Drift from the baseline: the class distribution by L∞ distance and by a chi-squared test, and the
 * confidence distribution by its Kolmogorov–Smirnov distance. A threshold set on the schedule wins;
 * otherwise the baseline's constraints decide (its categorical_drift_method picks the class test,
 * categorical_comparison_threshold its limit, comparison_threshold the confidence limit). The
 * confidence distance is the Kolmogorov–Smirnov statistic over the 1000-bucket histograms.
 */
import { FEATURE } from '../baselines/types.ts';
import { chiSquaredTest, ksDistance, lInfinity } from '../windows/distributions.ts';
import { type CheckContext, type CheckResult, percent, predictedTotal, type Violation } from './types.ts';

export function driftCheck({ counts, checks, label, classCount, baseline }: CheckContext): CheckResult {
  const total = predictedTotal(counts);
  // no prediction in the window: no distance to measure (an empty window is not "entirely different")
  if (!baseline || total === 0) return { violations: [], metrics: {} };
  // every class the model has, and any class number either side saw beyond them
  const categories = Math.max(
    classCount,
    1 + Math.max(-1, ...counts.classCounts.keys(), ...baseline.classCounts.keys()),
    1,
  );
  const distance = lInfinity(counts.classCounts, baseline.classCounts);
  const chi = chiSquaredTest(counts.classCounts, baseline.classCounts, categories);
  const shift = ksDistance(counts.confidence.histogram, baseline.confidenceHistogram);
  const metrics: Record<string, number> = { drift_l_infinity: distance, drift_chi_squared_p_value: chi.pValue };
  if (counts.confidence.count > 0) metrics.drift_confidence_shift = shift;

  const violations: Violation[] = [];
  if (!checks.drift.enabled) return { violations, metrics };
  const limits = driftLimits(checks.drift, baseline.constraints);
  const from = `baseline '${baseline.name}'`;

  if (limits.lInfinity !== null && distance > limits.lInfinity) {
    const worst = largestChange(counts.classCounts, baseline.classCounts);
    violations.push({
      check: 'DRIFT',
      featureName: FEATURE.predictedClass,
      constraintCheckType: 'baseline_drift_check',
      description:
        `Baseline drift distance (LInfinity) ${distance.toFixed(4)} of ${FEATURE.predictedClass} from ${from} exceeded the ` +
        `${limits.lInfinity} threshold: class ${worst.classId} (${label(worst.classId)}) ${percent(worst.before)} → ${percent(worst.after)}`,
    });
  }
  if (limits.chiSquaredPValue !== null && chi.pValue < limits.chiSquaredPValue) {
    violations.push({
      check: 'DRIFT',
      featureName: FEATURE.predictedClass,
      constraintCheckType: 'baseline_drift_check',
      description:
        `${FEATURE.predictedClass} distribution differs from ${from} (ChiSquared): statistic ${chi.statistic.toFixed(2)} with ` +
        `${chi.degreesOfFreedom} degrees of freedom, p-value ${chi.pValue.toExponential(3)} below ${limits.chiSquaredPValue}`,
    });
  }
  if (limits.confidenceShift !== null && counts.confidence.count > 0 && shift > limits.confidenceShift) {
    const mean = counts.confidence.sum / counts.confidence.count;
    violations.push({
      check: 'DRIFT',
      featureName: FEATURE.confidence,
      constraintCheckType: 'baseline_drift_check',
      description:
        `Baseline drift distance ${shift.toFixed(4)} of ${FEATURE.confidence} from ${from} exceeded the ${limits.confidenceShift} threshold: ` +
        `mean ${baseline.confidenceMean.toFixed(4)} → ${mean.toFixed(4)}`,
    });
  }
  return { violations, metrics };
}

interface DriftLimits {
  lInfinity: number | null;
  chiSquaredPValue: number | null;
  confidenceShift: number | null;
}

export function driftLimits(
  drift: {
    lInfinityThreshold: number | null;
    chiSquaredPValue: number | null;
    confidenceShiftThreshold: number | null;
  },
  constraints: {
    perform_comparison: string;
    categorical_drift_method: string;
    categorical_comparison_threshold: number;
    comparison_threshold: number;
  },
): DriftLimits {
  const compare = constraints.perform_comparison !== 'Disabled';
  const method = constraints.categorical_drift_method;
  return {
    lInfinity:
      drift.lInfinityThreshold ??
      (compare && method === 'LInfinity' ? constraints.categorical_comparison_threshold : null),
    chiSquaredPValue:
      drift.chiSquaredPValue ??
      (compare && method === 'ChiSquared' ? constraints.categorical_comparison_threshold : null),
    confidenceShift: drift.confidenceShiftThreshold ?? (compare ? constraints.comparison_threshold : null),
  };
}

function largestChange(now: ReadonlyMap<number, number>, before: ReadonlyMap<number, number>) {
  const totalNow = predictedSum(now);
  const totalBefore = predictedSum(before);
  let worst = { classId: 0, before: 0, after: 0, change: -1 };
  for (const k of new Set([...now.keys(), ...before.keys()])) {
    const after = totalNow ? (now.get(k) ?? 0) / totalNow : 0;
    const prior = totalBefore ? (before.get(k) ?? 0) / totalBefore : 0;
    const change = Math.abs(after - prior);
    if (change > worst.change || (change === worst.change && k < worst.classId))
      worst = { classId: k, before: prior, after, change };
  }
  return worst;
}

function predictedSum(counts: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}
