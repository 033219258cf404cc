/** What the checks are configured with, what every check receives, and what it returns. */
import type { BaselineView } from '../baselines/drift-view.ts';
import type { WindowCounts } from '../windows/counts.ts';
import type { ExternalCheckConfig, ExternalCheckInput } from './external/config.ts';

export interface ChecksConfig {
  classShare: { enabled: boolean; threshold: number };
  lowConfidence: { enabled: boolean; confidenceThreshold: number; maxShare: number };
  completeness: { enabled: boolean; minNonNullShare: number };
  /** thresholds left null come from the baseline's constraints */
  drift: {
    enabled: boolean;
    lInfinityThreshold: number | null;
    chiSquaredPValue: number | null;
    confidenceShiftThreshold: number | null;
  };
  /** accuracy and recall from the captures that have a true label (model-quality.ts); off by default */
  modelQuality: ModelQualityConfig;
  /** the window's features and image statistics against the baseline's input profile (input-drift.ts); off by default */
  inputDrift: InputDriftConfig;
  /** scripts of CHECKS_DIR run per execution in Model Monitor's container contract (external/) */
  external: ExternalCheckConfig[];
  minSampleSize: number;
}

export interface ModelQualityConfig {
  enabled: boolean;
  /** a violation below it; null: not checked */
  minAccuracy: number | null;
  /** per class: a violation when its recall is below `min` (classes with labels in the window only) */
  minRecall: { classId: number; min: number }[];
  /** a violation when accuracy is below the baseline's accuracy minus this; null: not checked */
  baselineTolerance: number | null;
  /** the window evaluated is the execution's, shifted back by this many seconds: labels arrive late */
  groundTruthDelaySeconds: number;
}

export interface InputDriftConfig {
  enabled: boolean;
  /** drift when a test's p-value, Bonferroni-corrected over its components, is below this */
  pValue: number;
  /** test the image statistics too (brightness, contrast, saturation, width, height, aspect ratio) */
  imageStatistics: boolean;
  /** captures of the window read, at most (spread over the window) */
  maxSampleSize: number;
}

type NestedPatch<T> = {
  [K in keyof T]?: T[K] extends object ? { [F in keyof T[K]]?: T[K][F] | null } | null : T[K] | null;
};
/**
 * what a client sends: any part may be left out to keep the default (or current) value; a list of
 * external checks replaces the current one
 */
export type ChecksInput = NestedPatch<Omit<ChecksConfig, 'external'>> & { external?: ExternalCheckInput[] | null };

/**
 * Which check found a violation: stable and machine-readable (alert routing), beside Model Monitor's
 * coarser `constraintCheckType`. MODEL_QUALITY, INPUT_DRIFT and EXTERNAL name the checks that compare
 * with ground truth, with the inputs' features, and that scripts run.
 */
export const CHECK_NAMES = [
  'CLASS_SHARE',
  'LOW_CONFIDENCE',
  'COMPLETENESS',
  'DRIFT',
  'MODEL_QUALITY',
  'INPUT_DRIFT',
  'EXTERNAL',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** Model Monitor's `constraint_check_type` values that vigil writes */
export const CONSTRAINT_CHECK_TYPES = [
  'baseline_drift_check',
  'completeness_check',
  'data_type_check',
  'categorical_values_check',
  'LessThanThreshold',
] as const;
export type ConstraintCheckType = (typeof CONSTRAINT_CHECK_TYPES)[number];

export interface Violation {
  check: CheckName;
  /** for model-quality violations (LessThanThreshold), the metric's name (Model Monitor's `metric_name`) */
  featureName: string;
  /** Model Monitor's check type; an external check's may be its script's own (checks/external/violations.ts) */
  constraintCheckType: ConstraintCheckType | (string & {});
  description: string;
}

export interface CheckContext {
  counts: WindowCounts;
  checks: ChecksConfig;
  /** the model's name of a class (its number when the model has no label for it) */
  label: (classId: number) => string;
  /** the model's number of classes */
  classCount: number;
  baseline: BaselineView | null;
  /** false when the endpoint captures inputs only: no output is expected, so none is missing */
  outputsCaptured: boolean;
}

export interface CheckResult {
  violations: Violation[];
  /**
   * measured whether or not the check is enabled; a metric the window cannot measure (no prediction
   * to take a share of) is left out rather than given a made-up value
   */
  metrics: Record<string, number>;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

/** rows with a predicted class: the denominator of shares of predictions */
export function predictedTotal(counts: WindowCounts): number {
  let total = 0;
  for (const n of counts.classCounts.values()) total += n;
  return total;
}
