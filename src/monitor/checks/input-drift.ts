/**
 * Input drift: does a window's sample of inputs come from the distribution of the baseline's? As Alibi
 * Detect's KSDrift does for images, the features are projected to a few dimensions (the baseline's
 * principal components: input-profile.ts) and each dimension is compared with the baseline's
 * reference sample by a two-sample Kolmogorov–Smirnov test; there is drift when the smallest p-value,
 * Bonferroni-corrected (times the number of tests), is below the configured p-value. The image
 * statistics (brightness, contrast, saturation, width, height, aspect ratio) are tested the same way,
 * as a second family. Below the schedule's minimum sample size of captures with features, it measures
 * but does not judge.
 */
import { IMAGE_STATISTICS, type ImageStatistic, type ImageStats } from '../../inference/image-stats.ts';
import { type InputProfile, project } from '../baselines/input-profile.ts';
import { ksTest } from '../windows/distributions.ts';
import type { InputDriftConfig, Violation } from './types.ts';

/** a window's sample: the captures' features (float32) and image statistics */
export interface InputSample {
  features: Float32Array[];
  imageStats: ImageStats[];
}

export interface InputDriftContext {
  sample: InputSample;
  profile: InputProfile;
  baselineName: string;
  config: InputDriftConfig;
  minSampleSize: number;
}

export interface InputDriftResult {
  violations: Violation[];
  /**
   * `input_drift_sample_size`; with enough features, `input_drift_p_value` (Bonferroni-corrected) and
   * `input_drift_ks_max`; with image statistics, `image_<statistic>_mean` and `image_stats_p_value`
   */
  metrics: Record<string, number>;
}

/** the metric names of the image statistics (snake case, as the other series) */
const METRIC_NAME: Record<ImageStatistic, string> = {
  brightness: 'brightness',
  contrast: 'contrast',
  saturation: 'saturation',
  width: 'width',
  height: 'height',
  aspectRatio: 'aspect_ratio',
};

/** the feature names of violations, as statistics.json names columns */
const FEATURE_NAME: Record<ImageStatistic, string> = {
  brightness: 'Brightness',
  contrast: 'Contrast',
  saturation: 'Saturation',
  width: 'Width',
  height: 'Height',
  aspectRatio: 'AspectRatio',
};

export function inputDriftCheck({
  sample,
  profile,
  baselineName,
  config,
  minSampleSize,
}: InputDriftContext): InputDriftResult {
  const metrics: Record<string, number> = { input_drift_sample_size: sample.features.length };
  const violations: Violation[] = [];
  const judged = (n: number) => n >= minSampleSize;

  const usable = sample.features.filter((f) => f.length === profile.featureSize);
  if (usable.length) {
    const projected = usable.map((f) => project(profile, f).coordinates);
    const tests = profile.basis.map((_, i) =>
      ksTest(
        projected.map((p) => p[i]!),
        profile.reference.map((r) => r[i]!),
      ),
    );
    const worst = bonferroni(tests);
    metrics.input_drift_p_value = worst.pValue;
    metrics.input_drift_ks_max = Math.max(...tests.map((t) => t.statistic));
    if (judged(usable.length) && worst.pValue < config.pValue)
      violations.push({
        check: 'INPUT_DRIFT',
        featureName: 'Features',
        constraintCheckType: 'baseline_drift_check',
        description: `Input drift: the features' component ${worst.index + 1} of ${tests.length} differs from baseline '${baselineName}' (KS distance ${round(tests[worst.index]!.statistic)}, Bonferroni-corrected p-value ${round(worst.pValue)} < ${config.pValue}; ${usable.length} captures)`,
      });
  }

  if (config.imageStatistics && sample.imageStats.length) {
    const tests = IMAGE_STATISTICS.map((name) => {
      const values = sample.imageStats.map((s) => s[name]);
      metrics[`image_${METRIC_NAME[name]}_mean`] = values.reduce((a, b) => a + b, 0) / values.length;
      return ksTest(values, profile.imageStats[name] ?? []);
    });
    const worst = bonferroni(tests);
    metrics.image_stats_p_value = worst.pValue;
    if (judged(sample.imageStats.length) && worst.pValue < config.pValue) {
      const name = IMAGE_STATISTICS[worst.index]!;
      violations.push({
        check: 'INPUT_DRIFT',
        featureName: FEATURE_NAME[name],
        constraintCheckType: 'baseline_drift_check',
        description: `Input drift: the images' ${METRIC_NAME[name].replace('_', ' ')} differs from baseline '${baselineName}' (mean ${round(metrics[`image_${METRIC_NAME[name]}_mean`]!)}, KS distance ${round(tests[worst.index]!.statistic)}, Bonferroni-corrected p-value ${round(worst.pValue)} < ${config.pValue})`,
      });
    }
  }
  return { violations, metrics };
}

/** the smallest p-value times the number of tests (at most 1), and which test gave it */
function bonferroni(tests: readonly { pValue: number }[]): { pValue: number; index: number } {
  let index = 0;
  tests.forEach((t, i) => {
    if (t.pValue < tests[index]!.pValue) index = i;
  });
  return { pValue: Math.min(1, (tests[index]?.pValue ?? 1) * tests.length), index };
}

/** 4 significant decimals, as a description shows them */
function round(value: number): number {
  return Number(value.toPrecision(4));
}
