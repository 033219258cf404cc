/** The checks' configuration: defaults, merging a client's partial input, and validation. */
import { ValidationError } from '../../errors.ts';
import { externalCheckConfig, validateExternalChecks } from './external/config.ts';
import type { ChecksConfig, ChecksInput, InputDriftConfig, ModelQualityConfig } from './types.ts';

export const DEFAULT_MIN_SAMPLE_SIZE = 30;
/** the window's captures an input-drift run reads by default, and at most */
export const DEFAULT_INPUT_DRIFT_SAMPLE = 2000;
export const MAX_INPUT_DRIFT_SAMPLE = 10_000;

export function defaultChecks(hasBaseline: boolean): ChecksConfig {
  return {
    classShare: { enabled: true, threshold: 0.5 },
    lowConfidence: { enabled: true, confidenceThreshold: 0.5, maxShare: 0.2 },
    completeness: { enabled: true, minNonNullShare: 1 },
    drift: { enabled: hasBaseline, lInfinityThreshold: null, chiSquaredPValue: null, confidenceShiftThreshold: null },
    modelQuality: {
      enabled: false,
      minAccuracy: null,
      minRecall: [],
      baselineTolerance: null,
      groundTruthDelaySeconds: 0,
    },
    inputDrift: { enabled: false, pValue: 0.05, imageStatistics: true, maxSampleSize: DEFAULT_INPUT_DRIFT_SAMPLE },
    external: [],
    minSampleSize: DEFAULT_MIN_SAMPLE_SIZE,
  };
}

/** `input` over `base`: fields left out (or null) keep the base's value, except drift thresholds, which null clears */
export function mergeChecks(base: ChecksConfig, input: ChecksInput | null | undefined): ChecksConfig {
  if (!input) return structuredClone(base);
  const pick = <T extends object>(
    current: T,
    patch: object | null | undefined,
    nullable: readonly string[] = [],
  ): T => {
    const next = { ...current } as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch ?? {})) {
      if (value === undefined || (value === null && !nullable.includes(key))) continue;
      next[key] = value;
    }
    return next as T;
  };
  return {
    classShare: pick(base.classShare, input.classShare),
    lowConfidence: pick(base.lowConfidence, input.lowConfidence),
    completeness: pick(base.completeness, input.completeness),
    drift: pick(base.drift, input.drift, ['lInfinityThreshold', 'chiSquaredPValue', 'confidenceShiftThreshold']),
    modelQuality: pick(base.modelQuality, input.modelQuality, ['minAccuracy', 'baselineTolerance']),
    inputDrift: pick(base.inputDrift, input.inputDrift),
    external: (input.external ?? base.external).map(externalCheckConfig),
    minSampleSize: input.minSampleSize ?? base.minSampleSize,
  };
}

/** every threshold in (0, 1]; drift needs a baseline */
export function validateChecks(checks: ChecksConfig, hasBaseline: boolean): void {
  const shares: [string, number | null][] = [
    ['checks.classShare.threshold', checks.classShare.threshold],
    ['checks.lowConfidence.confidenceThreshold', checks.lowConfidence.confidenceThreshold],
    ['checks.lowConfidence.maxShare', checks.lowConfidence.maxShare],
    ['checks.completeness.minNonNullShare', checks.completeness.minNonNullShare],
    ['checks.drift.lInfinityThreshold', checks.drift.lInfinityThreshold],
    ['checks.drift.chiSquaredPValue', checks.drift.chiSquaredPValue],
    ['checks.drift.confidenceShiftThreshold', checks.drift.confidenceShiftThreshold],
    ['checks.modelQuality.minAccuracy', checks.modelQuality.minAccuracy],
    ['checks.inputDrift.pValue', checks.inputDrift.pValue],
  ];
  for (const [field, value] of shares) {
    if (value === null) continue;
    if (!(Number.isFinite(value) && value > 0 && value <= 1)) {
      throw new ValidationError(field, `${field.slice('checks.'.length)} must be in (0, 1], got ${value}`);
    }
  }
  const n = checks.minSampleSize;
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000_000) {
    throw new ValidationError('checks.minSampleSize', `minSampleSize must be an integer ≥ 1, got ${n}`);
  }
  validateModelQuality(checks.modelQuality, hasBaseline);
  validateInputDrift(checks.inputDrift, hasBaseline);
  validateExternalChecks(checks.external);
  if (checks.drift.enabled && !hasBaseline) {
    throw new ValidationError(
      'checks.drift.enabled',
      "the drift check compares with a baseline: set the schedule's baseline, or disable drift",
    );
  }
}

/** the longest ground-truth delay: 30 days */
export const MAX_GROUND_TRUTH_DELAY_SECONDS = 30 * 24 * 3600;
/** the most classes minRecall may list */
export const MAX_RECALL_CLASSES = 1000;

function validateModelQuality(quality: ModelQualityConfig, hasBaseline: boolean): void {
  const field = 'checks.modelQuality';
  const tolerance = quality.baselineTolerance;
  if (tolerance !== null) {
    if (!(Number.isFinite(tolerance) && tolerance >= 0 && tolerance <= 1))
      throw new ValidationError(`${field}.baselineTolerance`, `baselineTolerance must be in [0, 1], got ${tolerance}`);
    if (!hasBaseline)
      throw new ValidationError(
        `${field}.baselineTolerance`,
        "baselineTolerance compares with the baseline's accuracy: set the schedule's baseline",
      );
  }
  const delay = quality.groundTruthDelaySeconds;
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_GROUND_TRUTH_DELAY_SECONDS)
    throw new ValidationError(
      `${field}.groundTruthDelaySeconds`,
      `groundTruthDelaySeconds must be an integer from 0 to ${MAX_GROUND_TRUTH_DELAY_SECONDS} (30 days), got ${delay}`,
    );
  if (quality.minRecall.length > MAX_RECALL_CLASSES)
    throw new ValidationError(`${field}.minRecall`, `minRecall may list at most ${MAX_RECALL_CLASSES} classes`);
  const seen = new Set<number>();
  quality.minRecall.forEach(({ classId, min }, i) => {
    if (!Number.isInteger(classId) || classId < 0 || classId > 1_000_000 || seen.has(classId))
      throw new ValidationError(
        `${field}.minRecall.${i}.classId`,
        `classId must be a class number ≥ 0, once per list, got ${classId}`,
      );
    seen.add(classId);
    if (!(Number.isFinite(min) && min > 0 && min <= 1))
      throw new ValidationError(`${field}.minRecall.${i}.min`, `min must be in (0, 1], got ${min}`);
  });
}

function validateInputDrift(drift: InputDriftConfig, hasBaseline: boolean): void {
  const n = drift.maxSampleSize;
  if (!Number.isInteger(n) || n < 1 || n > MAX_INPUT_DRIFT_SAMPLE)
    throw new ValidationError(
      'checks.inputDrift.maxSampleSize',
      `maxSampleSize must be an integer from 1 to ${MAX_INPUT_DRIFT_SAMPLE}, got ${n}`,
    );
  if (drift.enabled && !hasBaseline)
    throw new ValidationError(
      'checks.inputDrift.enabled',
      "the input-drift check compares with a baseline's input profile: set the schedule's baseline, or disable inputDrift",
    );
}

/** Parses stored checks, filling what older rows lack with defaults. */
export function parseStoredChecks(text: string, hasBaseline: boolean): ChecksConfig {
  return mergeChecks(defaultChecks(hasBaseline), JSON.parse(text) as ChecksInput);
}
