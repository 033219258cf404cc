/**
 * The pure parts of input drift: the two-sample KS test and its p-value, the eigen-solver and the
 * input profile (PCA, held-out reference, outlier scale), the check's Bonferroni correction, image
 * statistics, the features' float16 storage, and the per-endpoint reference cache.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeFeatures, encodeFeatures } from '../../src/capture/features.ts';
import { imageStats, imageStatsText, parseImageStats } from '../../src/inference/image-stats.ts';
import {
  fitInputProfile,
  type InputProfile,
  MIN_PROFILE_ITEMS,
  outlierScore,
  type ProfileItem,
  topEigen,
} from '../../src/monitor/baselines/input-profile.ts';
import { InputReferences } from '../../src/monitor/baselines/references.ts';
import { inputDriftCheck } from '../../src/monitor/checks/input-drift.ts';
import { kolmogorovSurvival, ksTest } from '../../src/monitor/windows/distributions.ts';
import { seededRandom } from '../helpers/images.ts';

/** standard normal draws (Box–Muller) */
function normal(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** `n` feature vectors of `d` values: a few strong directions (scales 8, 4, 2) over unit noise, shifted by `offset` */
function features(n: number, d: number, seed: number, offset = 0): Float32Array[] {
  const z = normal(seededRandom(seed));
  return Array.from({ length: n }, () => {
    const f = Float32Array.from({ length: d }, () => 0.3 * z());
    const [a, b, c] = [z() * 8, z() * 4, z() * 2];
    for (let j = 0; j < d; j++) f[j]! += a * Math.sin(j) + b * Math.cos(j) + (c * ((j % 5) - 2)) / 2 + offset;
    return f;
  });
}

const items = (fs: Float32Array[]): ProfileItem[] => fs.map((f) => ({ features: f, imageStats: null }));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

describe('two-sample Kolmogorov–Smirnov test', () => {
  it('gives the asymptotic p-value of Kolmogorov’s distribution', () => {
    // the classic 5 % critical value of λ
    expect(kolmogorovSurvival(1.358)).toBeCloseTo(0.05, 3);
    expect(kolmogorovSurvival(0.1)).toBe(1);
    const a = Array.from({ length: 100 }, (_, i) => i);
    const b = Array.from({ length: 100 }, (_, i) => i + 50);
    const { statistic, pValue } = ksTest(a, b);
    expect(statistic).toBe(0.5);
    const lambda = (Math.sqrt(50) + 0.12 + 0.11 / Math.sqrt(50)) * 0.5;
    expect(pValue).toBeCloseTo(2 * Math.exp(-2 * lambda * lambda), 15);
  });

  it('counts ties together: identical samples of repeated values have distance 0', () => {
    expect(ksTest([3, 3, 3, 4], [3, 4, 3, 3])).toEqual({ statistic: 0, pValue: 1 });
    expect(ksTest([], [1])).toEqual({ statistic: 0, pValue: 1 });
  });
});

describe('input profile', () => {
  it('topEigen finds the leading eigenvalues of a symmetric matrix', async () => {
    const d = 20;
    const m = new Float64Array(d * d);
    for (let i = 0; i < d; i++) m[i * d + i] = i + 1;
    const { values, vectors } = await topEigen(m, d, 3);
    expect(values.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([20, 19, 18]);
    expect(Math.abs(vectors[0]![19]!)).toBeCloseTo(1, 6);
  });

  it('holds the strong directions, a held-out reference, and scores a far point far above 1', async () => {
    const reference = features(400, 64, 1);
    const profile = (await fitInputProfile(items(reference)))!;
    expect(profile.basis).toHaveLength(16);
    expect(profile.reference).toHaveLength(200);
    expect(profile.itemCount).toBe(400);
    expect(profile.explainedVariance).toBeGreaterThan(0.8);
    // the first variances are those of the planted directions (scales 8, 4: ~32·64 and ~8·64 of energy)
    expect(profile.variances[0]!).toBeGreaterThan(3 * profile.variances[2]!);
    const fresh = features(200, 64, 2).map((f) => outlierScore(profile, f));
    expect(median(fresh)).toBeLessThan(1);
    expect(fresh.filter((s) => s > 1).length).toBeLessThan(20);
    const far = features(20, 64, 3, 3).map((f) => outlierScore(profile, f));
    expect(Math.min(...far)).toBeGreaterThan(3);
  });

  it('needs MIN_PROFILE_ITEMS reference images with features', async () => {
    expect(await fitInputProfile(items(features(MIN_PROFILE_ITEMS - 1, 8, 1)))).toBeNull();
    expect(await fitInputProfile([{ features: null, imageStats: null }])).toBeNull();
    expect(await fitInputProfile(items(features(MIN_PROFILE_ITEMS, 8, 1)))).not.toBeNull();
  });
});

describe('inputDrift check', () => {
  let profile: InputProfile;
  beforeAll(async () => {
    profile = (await fitInputProfile(items(features(400, 64, 1))))!;
  });
  const config = { enabled: true, pValue: 0.05, imageStatistics: true, maxSampleSize: 2000 };
  const check = (sample: Float32Array[], minSampleSize = 30) =>
    inputDriftCheck({
      sample: { features: sample, imageStats: [] },
      profile,
      baselineName: 'ref',
      config,
      minSampleSize,
    });

  it('passes a fresh sample of the reference distribution and flags a shifted one, Bonferroni-corrected', () => {
    const same = check(features(300, 64, 5));
    expect(same.violations).toEqual([]);
    expect(same.metrics.input_drift_p_value).toBeGreaterThan(0.05);
    const shifted = check(features(300, 64, 6, 0.5));
    expect(shifted.violations).toHaveLength(1);
    expect(shifted.violations[0]).toMatchObject({ check: 'INPUT_DRIFT', featureName: 'Features' });
    expect(shifted.metrics.input_drift_p_value).toBeLessThan(1e-6);
    expect(shifted.metrics.input_drift_sample_size).toBe(300);
  });

  it('measures but does not judge below the minimum sample size', () => {
    const small = check(features(20, 64, 6, 0.5), 30);
    expect(small.violations).toEqual([]);
    expect(small.metrics.input_drift_p_value).toBeLessThan(0.05);
  });
});

describe('image statistics', () => {
  it('measures brightness, contrast and saturation of the resized pixels, and the size as received', () => {
    const black = imageStats(new Uint8Array(12), 30, 20);
    expect(black).toEqual({ brightness: 0, contrast: 0, saturation: 0, width: 30, height: 20, aspectRatio: 1.5 });
    const red = imageStats(Uint8Array.from([255, 0, 0, 255, 0, 0]), 10, 10);
    expect(red).toMatchObject({ brightness: 0.299, contrast: 0, saturation: 1 });
    const half = imageStats(Uint8Array.from([0, 0, 0, 255, 255, 255]), 2, 1);
    expect(half).toMatchObject({ brightness: 0.5, contrast: 0.5, saturation: 0 });
    expect(parseImageStats(imageStatsText(half))).toEqual(half);
    expect(parseImageStats('{"brightness":"x"}')).toBeNull();
    expect(parseImageStats('not json')).toBeNull();
  });
});

describe('stored features', () => {
  it('are float16: 2 bytes a value, within half precision', () => {
    const values = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i) * 3);
    const stored = encodeFeatures(values);
    expect(stored.byteLength).toBe(1024);
    const back = decodeFeatures(stored);
    for (let i = 0; i < 512; i++) expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(2 ** -9);
  });
});

describe('outlier references', () => {
  let profile: InputProfile;
  beforeAll(async () => {
    profile = (await fitInputProfile(items(features(40, 8, 1))))!;
  });

  it('reads the newest baseline with a profile once, asks again after 5 s, and reads the profile only when it changed', async () => {
    let now = 0;
    let newest: string | null = 'b1';
    const calls: string[] = [];
    const references = new InputReferences(
      {
        newestWithProfile: async () => {
          calls.push('newest');
          return newest;
        },
        inputProfile: async (id) => {
          calls.push(`profile ${id}`);
          return profile;
        },
      },
      () => now,
    );
    const scorer = await references.scorer('e1');
    expect(scorer?.(features(1, 8, 9)[0]!)).toBeGreaterThan(0);
    await references.scorer('e1');
    expect(calls).toEqual(['newest', 'profile b1']);
    now = 6000;
    await references.scorer('e1');
    expect(calls).toEqual(['newest', 'profile b1', 'newest']);
    newest = null;
    references.invalidate('e1');
    expect(await references.scorer('e1')).toBeNull();
  });

  it('gives no scorer, rather than failing the prediction, when the database cannot say', async () => {
    const references = new InputReferences({
      newestWithProfile: () => Promise.reject(new Error('database down')),
      inputProfile: async () => null,
    });
    expect(await references.scorer('e1')).toBeNull();
  });
});
