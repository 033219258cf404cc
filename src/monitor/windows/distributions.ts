/**
 * Math on distributions, as pure functions (for the drift check and statistics.json): distribution
 * distances, the chi-squared test (p-value from the regularized incomplete gamma function), and
 * quantiles / CDF values read from a fine confidence histogram.
 */

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; ~15 significant digits). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 10_000;

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a): the series for P when
 * x < a + 1, the continued fraction (modified Lentz) for Q otherwise, as in Numerical Recipes §6.2.
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0 || Number.isNaN(x)) return Number.NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  const logPrefix = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.min(1, Math.exp(logPrefix) * h);
}

/** P(a, x) = 1 − Q(a, x) */
export function gammaP(a: number, x: number): number {
  return 1 - gammaQ(a, x);
}

/** P(χ²_df ≥ statistic): the p-value of a chi-squared statistic. */
export function chiSquaredSurvival(statistic: number, df: number): number {
  if (df <= 0) return 1;
  return gammaQ(df / 2, Math.max(0, statistic) / 2);
}

export interface ChiSquaredResult {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
}

/**
 * Pearson's goodness-of-fit test of observed class counts against a baseline's class counts over
 * `categories` classes. The baseline is smoothed (add ½ to every class) so that a class the
 * baseline never saw has a small expected count instead of zero, which would make χ² infinite.
 */
export function chiSquaredTest(
  observed: ReadonlyMap<number, number>,
  baseline: ReadonlyMap<number, number>,
  categories: number,
): ChiSquaredResult {
  const n = sum(observed.values());
  const smoothing = 0.5;
  const baseTotal = sum(baseline.values()) + smoothing * categories;
  let statistic = 0;
  for (let k = 0; k < categories; k++) {
    const expected = (n * ((baseline.get(k) ?? 0) + smoothing)) / baseTotal;
    const diff = (observed.get(k) ?? 0) - expected;
    statistic += (diff * diff) / expected;
  }
  const degreesOfFreedom = categories - 1;
  return { statistic, degreesOfFreedom, pValue: n === 0 ? 1 : chiSquaredSurvival(statistic, degreesOfFreedom) };
}

/** max over classes of |p(k) − q(k)|, the proportions of two count tables (SageMaker's LInfinity) */
export function lInfinity(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): number {
  const totalA = sum(a.values());
  const totalB = sum(b.values());
  if (totalA === 0 || totalB === 0) return totalA === totalB ? 0 : 1;
  let distance = 0;
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    distance = Math.max(distance, Math.abs((a.get(k) ?? 0) / totalA - (b.get(k) ?? 0) / totalB));
  }
  return distance;
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/**
 * Histograms here are of values in [0, 1] in `counts.length` equal buckets, bucket i = [i/B, (i+1)/B)
 * (the last one closed); values are assumed spread evenly inside a bucket.
 */

/** The value below which a share `p` of the histogram lies, clamped to the observed [min, max]. */
export function histogramQuantile(counts: readonly number[], p: number, min: number, max: number): number {
  const total = sum(counts);
  if (total === 0) return Number.NaN;
  const target = p * total;
  const buckets = counts.length;
  let cumulative = 0;
  for (let i = 0; i < buckets; i++) {
    const c = counts[i]!;
    if (c > 0 && cumulative + c >= target) {
      const value = (i + (target - cumulative) / c) / buckets;
      return Math.min(max, Math.max(min, value));
    }
    cumulative += c;
  }
  return max;
}

export interface QuantilePoint {
  quantile: number;
  value: number;
}

/**
 * Kolmogorov–Smirnov distance between two histograms over the same buckets: the largest difference
 * of their cumulative shares at a bucket edge (0 when either is empty).
 */
export function ksDistance(a: readonly number[], b: readonly number[]): number {
  const totalA = sum(a);
  const totalB = sum(b);
  if (totalA === 0 || totalB === 0) return 0;
  let cumulativeA = 0;
  let cumulativeB = 0;
  let distance = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    cumulativeA += a[i] ?? 0;
    cumulativeB += b[i] ?? 0;
    distance = Math.max(distance, Math.abs(cumulativeA / totalA - cumulativeB / totalB));
  }
  return distance;
}

/** Sums fine buckets into `into` equal coarser ones (fine.length must be a multiple of `into`). */
export function coarsen(fine: readonly number[], into: number): number[] {
  const per = fine.length / into;
  return Array.from({ length: into }, (_, i) => sum(fine.slice(i * per, (i + 1) * per)));
}

/**
 * Two-sample Kolmogorov–Smirnov test on raw values: the largest difference of the two empirical
 * distribution functions, and its asymptotic p-value (Kolmogorov's distribution at the effective
 * sample size, with Stephens' correction, as Numerical Recipes' `kstwo`); p is 1 when either sample is
 * empty. Ties are counted together, so repeated values (an image size) do not make up a distance.
 */
export function ksTest(a: readonly number[], b: readonly number[]): { statistic: number; pValue: number } {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let statistic = 0;
  while (i < n && j < m) {
    const value = Math.min(x[i]!, y[j]!);
    while (i < n && x[i] === value) i++;
    while (j < m && y[j] === value) j++;
    statistic = Math.max(statistic, Math.abs(i / n - j / m));
  }
  const effective = Math.sqrt((n * m) / (n + m));
  return { statistic, pValue: kolmogorovSurvival((effective + 0.12 + 0.11 / effective) * statistic) };
}

/** P(K > λ) of Kolmogorov's distribution: 2 Σ (−1)^(k−1) exp(−2k²λ²) */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda < 0.2) return 1;
  let total = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(-2 * k * k * lambda * lambda);
    total += term;
    if (Math.abs(term) < 1e-12 * Math.abs(total)) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * total));
}
