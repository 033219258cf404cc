import { describe, expect, it } from 'vitest';
import {
  chiSquaredSurvival,
  chiSquaredTest,
  coarsen,
  gammaP,
  gammaQ,
  histogramQuantile,
  ksDistance,
  lInfinity,
  lnGamma,
} from '../../src/monitor/windows/distributions.ts';

describe('monitor statistics', () => {
  it('lnGamma matches known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 13);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(lnGamma(100)).toBeCloseTo(359.1342053695754, 9);
  });

  it('the regularized incomplete gamma function matches closed forms and tables', () => {
    for (const x of [0.1, 1, 2.5, 10, 40]) {
      expect(gammaP(1, x)).toBeCloseTo(1 - Math.exp(-x), 13); // P(1, x) = 1 − e^−x
      expect(gammaQ(2, x)).toBeCloseTo((1 + x) * Math.exp(-x), 13); // Q(2, x) = (1 + x) e^−x
    }
    expect(gammaQ(3, 0)).toBe(1);
    expect(gammaQ(0.5, 2)).toBeCloseTo(0.04550026389635842, 12); // erfc(√2)
  });

  it('chi-squared p-values match the critical values of the distribution', () => {
    expect(chiSquaredSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquaredSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 12);
    expect(chiSquaredSurvival(58.12403768086803, 42)).toBeCloseTo(0.05, 10);
    expect(chiSquaredSurvival(4, 2)).toBeCloseTo(Math.exp(-2), 13);
    expect(chiSquaredSurvival(23.209251158954356, 10)).toBeCloseTo(0.01, 12);
    expect(chiSquaredSurvival(500, 42)).toBeLessThan(1e-70);
    expect(chiSquaredSurvival(0, 42)).toBe(1);
  });

  it('chi-squared test: identical proportions pass, a skewed histogram fails', () => {
    const baseline = new Map(Array.from({ length: 43 }, (_, k) => [k, 10] as const));
    const same = new Map(Array.from({ length: 43 }, (_, k) => [k, 20] as const));
    expect(chiSquaredTest(same, baseline, 43).pValue).toBeGreaterThan(0.999);
    const skewed = new Map([...same, [14, 300]]);
    const result = chiSquaredTest(skewed, baseline, 43);
    expect(result.degreesOfFreedom).toBe(42);
    expect(result.pValue).toBeLessThan(1e-10);
    // a class the baseline never saw gets a small expected count, not a division by zero
    expect(Number.isFinite(chiSquaredTest(new Map([[50, 5]]), baseline, 51).statistic)).toBe(true);
  });

  it('L∞ is the largest difference of class proportions', () => {
    expect(
      lInfinity(
        new Map([
          [1, 50],
          [2, 50],
        ]),
        new Map([
          [1, 25],
          [2, 75],
        ]),
      ),
    ).toBeCloseTo(0.25, 15);
    expect(lInfinity(new Map([[1, 10]]), new Map([[2, 10]]))).toBe(1);
    expect(lInfinity(new Map(), new Map())).toBe(0);
  });

  it('reads quantiles from a bucket histogram; KS distance between histograms', () => {
    const uniform = new Array(1000).fill(1);
    expect(histogramQuantile(uniform, 0.5, 0, 1)).toBeCloseTo(0.5, 12);
    expect(histogramQuantile(uniform, 0.25, 0, 1)).toBeCloseTo(0.25, 12);
    expect(histogramQuantile(uniform, 0.5, 0.6, 1)).toBe(0.6); // clamped to the observed range
    expect(
      ksDistance(
        uniform,
        uniform.map((n) => n * 3),
      ),
    ).toBe(0);
    const high = new Array(1000).fill(0);
    high[950] = 100;
    expect(ksDistance(high, uniform)).toBeCloseTo(0.95, 12); // at the edge below bucket 950
    expect(ksDistance(high, [])).toBe(0);
    expect(coarsen(uniform, 10)).toEqual(new Array(10).fill(100));
  });
});
