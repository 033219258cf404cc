/**
 * Integrated Gradients (Sundararajan et al., 2017), with the gradients from any source that takes a
 * batch of normalised images (the debug graph: `debugger/explain-class.ts`).
 *
 *   attr = (x − x′) ⊙ Σ_{k=0..m} w_k ∇f(x′ + (k/m)(x − x′)),  w_0 = w_m = 1/(2m), w_k = 1/m otherwise
 *
 * (the trapezoid rule over m steps, m + 1 gradient evaluations, sent through the graph in batches of
 * IG_BATCH). Completeness: Σ attr ≈ f(x) − f(x′) for the explained logit f; the residual
 * |Σ attr − (f(x) − f(x′))| / |f(x) − f(x′)| shrinks with m (the network is piecewise linear: the
 * integrand jumps where a ReLU switches along the path). The map is |Σ_c attr[c]|, min-max normalised.
 *
 * Baselines x′ (`IG_BASELINES`): BLACK (RGB 0, normalised), ZERO (the normalised zero: the dataset's
 * mean colour), BLUR (the input blurred by a Gaussian of σ = IG_BLUR_SIGMA pixels), NOISE (uniform RGB
 * noise from a fixed seed, the same for every request).
 */
import { normaliseMinMax } from './gradcam.ts';

export const IG_BASELINES = ['BLACK', 'ZERO', 'BLUR', 'NOISE'] as const;
export type IgBaseline = (typeof IG_BASELINES)[number];

export const DEFAULT_IG_STEPS = 32;
export const MAX_IG_STEPS = 256;
/** path points per debug-graph run */
export const IG_BATCH = 16;
export const IG_BLUR_SIGMA = 8;
export const IG_NOISE_SEED = 0x5eed;
/**
 * The stated tolerance of the completeness residual at the default 32 steps on the bundled fixtures
 * (measured: see docs/debugger.md); fewer steps can exceed it, and `withinTolerance` says so.
 */
export const IG_COMPLETENESS_TOLERANCE = 0.05;

export interface IgOptions {
  steps: number;
  baseline: IgBaseline;
}

export const DEFAULT_IG: IgOptions = { steps: DEFAULT_IG_STEPS, baseline: 'BLACK' };

/** gradients of the explained logit for a batch of n images [n,3,H,W]: logits [n,classes] and input_grad */
export type GradientSource = (
  images: Float32Array,
  n: number,
) => Promise<{ logits: Float32Array; inputGrad: Float32Array }>;

export interface IgResult {
  /** (x − x′) ⊙ averaged gradient, [3, H, W] */
  attributions: Float64Array;
  /** |Σ_c attr|, min-max normalised, H × W */
  values: Float32Array;
  width: number;
  height: number;
  completeness: IgCompleteness;
}

export interface IgCompleteness {
  classId: number;
  steps: number;
  baseline: IgBaseline;
  /** f(x) */
  logit: number;
  /** f(x′) */
  baselineLogit: number;
  /** Σ attr */
  attributionSum: number;
  /** |Σ attr − (f(x) − f(x′))| / |f(x) − f(x′)| */
  residual: number;
  tolerance: number;
  withinTolerance: boolean;
}

/** the normalisation of a model: mean and std per channel */
export interface Normalisation {
  mean: readonly number[];
  std: readonly number[];
}

/** the baseline image x′ for an input x ([3, H, W], normalised) */
export function igBaseline(
  kind: IgBaseline,
  input: Float32Array,
  shape: readonly [number, number, number],
  norm: Normalisation,
): Float32Array {
  if (kind === 'ZERO') return new Float32Array(input.length);
  if (kind === 'BLUR') return gaussianBlur(input, shape, IG_BLUR_SIGMA);
  if (kind === 'BLACK') return levelImage(shape, norm, () => 0);
  const random = mulberry32(IG_NOISE_SEED);
  return levelImage(shape, norm, () => Math.floor(random() * 256));
}

/** a normalised [C, H, W] image whose 8-bit levels come from `level` (channel by channel, row-major) */
export function levelImage(
  shape: readonly [number, number, number],
  norm: Normalisation,
  level: () => number,
): Float32Array {
  const [channels, h, w] = shape;
  const plane = h * w;
  const out = new Float32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    const mean = norm.mean[c]!;
    const std = norm.std[c]!;
    for (let p = 0; p < plane; p++) out[c * plane + p] = (level() / 255 - mean) / std;
  }
  return out;
}

/**
 * IG of class `classId` (the gradient source is seeded with it). `steps` is checked by the caller
 * (1 … MAX_IG_STEPS); the m + 1 path points go through `gradients` IG_BATCH at a time.
 */
export async function integratedGradients(
  gradients: GradientSource,
  input: Float32Array,
  baseline: Float32Array,
  shape: readonly [number, number, number],
  classId: number,
  options: IgOptions,
): Promise<IgResult> {
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_IG_STEPS)
    throw new Error(`steps must be an integer from 1 to ${MAX_IG_STEPS}, got ${steps}`);
  const size = input.length;
  if (baseline.length !== size) throw new Error(`baseline holds ${baseline.length} values, expected ${size}`);
  const total = new Float64Array(size);
  let logit = Number.NaN;
  let baselineLogit = Number.NaN;
  let classes = 0;
  for (let start = 0; start <= steps; start += IG_BATCH) {
    const n = Math.min(IG_BATCH, steps + 1 - start);
    const batch = new Float32Array(n * size);
    for (let j = 0; j < n; j++) {
      const a = (start + j) / steps;
      const offset = j * size;
      for (let i = 0; i < size; i++) batch[offset + i] = baseline[i]! + a * (input[i]! - baseline[i]!);
    }
    const run = await gradients(batch, n);
    classes = run.logits.length / n;
    for (let j = 0; j < n; j++) {
      const k = start + j;
      const weight = k === 0 || k === steps ? 0.5 / steps : 1 / steps;
      const offset = j * size;
      for (let i = 0; i < size; i++) total[i] = total[i]! + weight * run.inputGrad[offset + i]!;
      if (k === 0) baselineLogit = run.logits[j * classes + classId]!;
      if (k === steps) logit = run.logits[j * classes + classId]!;
    }
  }
  const [channels, height, width] = shape;
  const plane = height * width;
  const attributions = new Float64Array(size);
  const channelSum = new Float64Array(plane);
  let attributionSum = 0;
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < plane; p++) {
      const i = c * plane + p;
      const a = (input[i]! - baseline[i]!) * total[i]!;
      attributions[i] = a;
      channelSum[p] = channelSum[p]! + a;
      attributionSum += a;
    }
  }
  const values = normaliseMinMax(Float32Array.from(channelSum, Math.abs));
  const delta = logit - baselineLogit;
  const residual = Math.abs(attributionSum - delta) / Math.max(Math.abs(delta), 1e-12);
  return {
    attributions,
    values,
    width,
    height,
    completeness: {
      classId,
      steps,
      baseline: options.baseline,
      logit,
      baselineLogit,
      attributionSum,
      residual,
      tolerance: IG_COMPLETENESS_TOLERANCE,
      withinTolerance: residual <= IG_COMPLETENESS_TOLERANCE,
    },
  };
}

/** a separable Gaussian blur of each channel, edges clamped; radius 3σ */
export function gaussianBlur(
  input: Float32Array,
  shape: readonly [number, number, number],
  sigma: number,
): Float32Array {
  const [channels, h, w] = shape;
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let norm = 0;
  for (let i = -radius; i <= radius; i++) norm += kernel[i + radius] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] = kernel[i]! / norm;
  const out = new Float32Array(input.length);
  const row = new Float64Array(h * w);
  for (let c = 0; c < channels; c++) {
    const base = c * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = Math.min(w - 1, Math.max(0, x + k));
          s += kernel[k + radius]! * input[base + y * w + xx]!;
        }
        row[y * w + x] = s;
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) {
          const yy = Math.min(h - 1, Math.max(0, y + k));
          s += kernel[k + radius]! * row[yy * w + x]!;
        }
        out[base + y * w + x] = s;
      }
    }
  }
  return out;
}

/** a small seeded PRNG (mulberry32): the same noise baseline everywhere */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
