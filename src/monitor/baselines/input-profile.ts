/**
 * A baseline's input profile: what the input-drift check and the outlier score compare new inputs
 * with. Made from the reference's penultimate features (the serving graph's `features` output, 512
 * values an image) and its image statistics:
 *
 * - a projection to PROFILE_COMPONENTS dimensions: principal components of the features (covariance,
 *   subspace iteration with a Rayleigh–Ritz step), fitted on half of the reference;
 * - a reference sample: the other half, projected. Components fitted on a sample overstate that
 *   sample's own spread along them, so a window compared with the fitting half would drift by
 *   construction; the held-out half is what a fresh sample of the same distribution looks like
 *   (Alibi Detect likewise projects its reference with an encoder not fitted on it);
 * - the outlier score's scale: the 99th percentile of the held-out half's raw scores, so that a score
 *   above 1 is further out than 99 % of reference images;
 * - the reference's image statistics (brightness, contrast, saturation, width, height, aspect ratio).
 *
 * The raw score is a Mahalanobis distance in the projection plus the residual off it (a point far
 * from the components' plane is an outlier too, whatever its projection), each term in units of the
 * reference's own spread: sqrt((Σ z_i² / λ_i + r² / mean r²) / (k + 1)).
 */
import { ValidationError } from '../../errors.ts';
import { IMAGE_STATISTICS, type ImageStatistic, type ImageStats } from '../../inference/image-stats.ts';
import type { ChecksConfig } from '../checks/types.ts';
import type { BaselineRecord } from './types.ts';

/** dimensions of the projection */
export const PROFILE_COMPONENTS = 16;
/** reference images whose features are read (window baselines) and fitted, at most */
export const MAX_PROFILE_ITEMS = 2000;
/** projected reference points kept, at most */
export const MAX_REFERENCE_SAMPLE = 1000;
/** fewer reference images with features than this and a baseline gets no input profile */
export const MIN_PROFILE_ITEMS = 8;
/** the raw-score percentile an outlier score of 1 stands for */
export const SCORE_PERCENTILE = 0.99;

export interface InputProfile {
  featureSize: number;
  /** reference images with features (fitted + held out) */
  itemCount: number;
  mean: number[];
  /** unit vectors, PROFILE_COMPONENTS (or fewer) rows of featureSize */
  basis: number[][];
  /** variance of the fitting half along each basis vector */
  variances: number[];
  /** mean squared distance of the fitting half to the components' plane */
  residual: number;
  /** share of the fitting half's variance the components hold */
  explainedVariance: number;
  /** the held-out half's raw-score percentile SCORE_PERCENTILE: an outlier score of 1 */
  scoreScale: number;
  /** the held-out half, projected (at most MAX_REFERENCE_SAMPLE points of `basis.length` values) */
  reference: number[][];
  /** the reference's image statistics, each a sample of at most MAX_REFERENCE_SAMPLE values */
  imageStats: Record<ImageStatistic, number[]>;
}

/** one reference image: its features (null when its run had none) and image statistics */
export interface ProfileItem {
  features: Float32Array | null;
  imageStats: ImageStats | null;
}

/**
 * The profile of a reference; null when fewer than MIN_PROFILE_ITEMS of its images have features. The
 * work (a covariance of up to MAX_PROFILE_ITEMS / 2 vectors, then the eigen-solver) runs on the calling
 * thread in slices, yielding to the event loop between them, so that requests are served meanwhile.
 */
export async function fitInputProfile(items: readonly ProfileItem[]): Promise<InputProfile | null> {
  const withFeatures = spread(
    items.flatMap((item) => (item.features ? [item.features] : [])),
    MAX_PROFILE_ITEMS,
  );
  if (withFeatures.length < MIN_PROFILE_ITEMS) return null;
  const d = withFeatures[0]!.length;
  if (withFeatures.some((f) => f.length !== d)) throw new Error('reference features of different sizes');
  const fit = withFeatures.filter((_, i) => i % 2 === 0);
  const held = withFeatures.filter((_, i) => i % 2 === 1);

  const mean = new Float64Array(d);
  for (const f of fit) for (let j = 0; j < d; j++) mean[j]! += f[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= fit.length;
  const covariance = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (const [row, f] of fit.entries()) {
    if (row % 64 === 63) await yieldToEventLoop();
    for (let j = 0; j < d; j++) centred[j] = f[j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ca = centred[a]!;
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) covariance[row + b]! += ca * centred[b]!;
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = covariance[a * d + b]! / Math.max(1, fit.length - 1);
      covariance[a * d + b] = v;
      covariance[b * d + a] = v;
    }
    trace += covariance[a * d + a]!;
  }
  const k = Math.min(PROFILE_COMPONENTS, fit.length - 1, d);
  const { vectors, values } = await topEigen(covariance, d, k);
  const floor = Math.max(1e-12, 1e-9 * trace);
  const variances = values.map((v) => Math.max(v, floor));
  const kept = values.reduce((s, v) => s + Math.max(0, v), 0);
  const partial = {
    featureSize: d,
    mean: Array.from(mean),
    basis: vectors.map((v) => Array.from(v)),
    variances,
    residual: Math.max(floor, trace - kept),
  };
  const heldProjected = held.map((f) => project(partial, f));
  const scores = heldProjected.map((p) => rawScore(partial, p)).sort((a, b) => a - b);
  const scoreScale = Math.max(1e-9, quantile(scores, SCORE_PERCENTILE));

  const statistics = items.flatMap((item) => (item.imageStats ? [item.imageStats] : []));
  const imageStats = Object.fromEntries(
    IMAGE_STATISTICS.map((name) => [name, spread(statistics, MAX_REFERENCE_SAMPLE).map((s) => s[name])]),
  ) as Record<ImageStatistic, number[]>;

  return {
    ...partial,
    mean: partial.mean.map(short),
    basis: partial.basis.map((v) => v.map(short)),
    variances: variances.map(short),
    residual: short(partial.residual),
    itemCount: withFeatures.length,
    explainedVariance: trace > 0 ? short(kept / trace) : 0,
    scoreScale: short(scoreScale),
    reference: spread(heldProjected, MAX_REFERENCE_SAMPLE).map((p) => Array.from(p.coordinates, short)),
    imageStats,
  };
}

export interface Projection {
  coordinates: Float64Array;
  /** squared distance to the components' plane */
  residual: number;
}

type Basis = Pick<InputProfile, 'mean' | 'basis'>;

export function project(profile: Basis, features: ArrayLike<number>): Projection {
  const { mean, basis } = profile;
  const d = mean.length;
  if (features.length !== d) throw new Error(`features of ${features.length} values, the profile has ${d}`);
  const centred = new Float64Array(d);
  let norm = 0;
  for (let j = 0; j < d; j++) {
    const c = features[j]! - mean[j]!;
    centred[j] = c;
    norm += c * c;
  }
  const coordinates = new Float64Array(basis.length);
  let inPlane = 0;
  basis.forEach((v, i) => {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += v[j]! * centred[j]!;
    coordinates[i] = dot;
    inPlane += dot * dot;
  });
  return { coordinates, residual: Math.max(0, norm - inPlane) };
}

function rawScore(profile: Pick<InputProfile, 'variances' | 'residual'>, projection: Projection): number {
  let total = projection.residual / profile.residual;
  projection.coordinates.forEach((z, i) => {
    total += (z * z) / profile.variances[i]!;
  });
  return Math.sqrt(total / (projection.coordinates.length + 1));
}

/** how far `features` lie from the reference, in units of its 99th percentile (see the file's comment) */
export function outlierScore(profile: InputProfile, features: ArrayLike<number>): number {
  return short(rawScore(profile, project(profile, features)) / profile.scoreScale);
}

/** the inputDrift check compares with a baseline's input profile: schedules and ad-hoc runs need one */
export function requireInputProfile(checks: ChecksConfig, baseline: BaselineRecord | null): void {
  if (!checks.inputDrift.enabled || !baseline) return;
  if (!baseline.inputProfile)
    throw new ValidationError(
      'checks.inputDrift.enabled',
      `baseline '${baseline.name}' has no input profile: it was made from captures or images without features (a model whose serving graph has a features output, captures taken since)`,
    );
}

/**
 * The `k` leading eigenvectors of a symmetric d×d matrix: subspace iteration on k + 8 vectors, then
 * a Rayleigh–Ritz step (Jacobi on the small projected matrix). Deterministic.
 */
export async function topEigen(
  matrix: Float64Array,
  d: number,
  k: number,
): Promise<{ vectors: Float64Array[]; values: number[] }> {
  const p = Math.min(d, k + 8);
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  let block: Float64Array[] = Array.from({ length: p }, () => Float64Array.from({ length: d }, random));
  orthonormalise(block);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    block = block.map((v) => multiply(matrix, d, v));
    orthonormalise(block);
    await yieldToEventLoop();
  }
  const images = block.map((v) => multiply(matrix, d, v));
  const small = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) small[a * p + b] = dot(block[a]!, images[b]!);
  const { values, vectors } = jacobi(small, p);
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]);
  const out = order.slice(0, k).map(([, i]) => {
    const v = new Float64Array(d);
    for (let a = 0; a < p; a++) {
      const w = vectors[a * p + i]!;
      const q = block[a]!;
      for (let j = 0; j < d; j++) v[j]! += w * q[j]!;
    }
    return v;
  });
  return { vectors: out, values: order.slice(0, k).map(([v]) => v) };
}

/** subspace iterations: the 8 extra vectors make the leading ones converge fast (ratio λ(k+8) / λ(k) per step) */
const ITERATIONS = 40;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function multiply(matrix: Float64Array, d: number, v: Float64Array): Float64Array {
  const out = new Float64Array(d);
  for (let a = 0; a < d; a++) {
    let s = 0;
    const row = a * d;
    for (let b = 0; b < d; b++) s += matrix[row + b]! * v[b]!;
    out[a] = s;
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

/** modified Gram–Schmidt, twice for stability; a vector that vanishes becomes zero */
function orthonormalise(vectors: Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    vectors.forEach((v, i) => {
      for (let j = 0; j < i; j++) {
        const u = vectors[j]!;
        const c = dot(u, v);
        for (let x = 0; x < v.length; x++) v[x]! -= c * u[x]!;
      }
      const norm = Math.sqrt(dot(v, v));
      for (let x = 0; x < v.length; x++) v[x] = norm > 1e-300 ? v[x]! / norm : 0;
    });
  }
}

/** eigen-decomposition of a small symmetric n×n matrix (cyclic Jacobi): values, and vectors as columns */
function jacobi(input: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = a[r * n + p]!;
          const arq = a[r * n + q]!;
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = a[p * n + r]!;
          const aqr = a[q * n + r]!;
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p]!;
          const vrq = v[r * n + q]!;
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i * n + i]!), vectors: v };
}

/** at most `limit` items spread evenly over `items`, in order */
export function spread<T>(items: readonly T[], limit: number): T[] {
  if (items.length <= limit) return [...items];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]!);
}

/** the `p` quantile of sorted values (nearest rank); 0 for none */
function quantile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** 7 significant digits: a float32's precision, and compact JSON */
function short(value: number): number {
  return Number(value.toPrecision(7));
}
