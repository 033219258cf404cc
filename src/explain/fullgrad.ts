/**
 * FullGrad saliency and its completeness check, from a step's tensors (pure functions, no I/O).
 *
 * The reference (models/…/fixtures/fixtures.json `definitions`, after idiap/fullgrad-saliency with eps
 * 1e-12 and align_corners=False):
 *
 *   minmax(t)  = (t − min t) / (max t − min t + 1e-12), min/max per image over all C × H × W values
 *   FULLGRAD   = minmax(|image · input_grad|).sum(c) + Σ_sites resize(minmax(|bias[c] · output_grad|)).sum(c)
 *   SIMPLE_FULLGRAD = the same with |output_grad| in place of |bias[c] · output_grad|
 *   INPUT_X_GRADIENT = minmax(|image · input_grad|.sum(c)) over the H × W map
 *
 * Computed without materialising any normalised [C,H,W] tensor: minmax is affine with one (min, range)
 * per site and resize is linear and keeps constants, so
 *
 *   Σ_c resize(minmax(x_c)) = resize(Σ_c x_c) / range − C · min / range
 *
 * — one pass over each site (its summary: channel sum S = Σ_c |b_c|·|g_c|, min and max), then the
 * normalised sums of the sites of one spatial size added up and resized once (5 resizes for ResNet18's
 * 20 sites), straight into the output. Accumulation is in float64; the same pass gathers the
 * completeness sums. A site can bring its own summariser (the tensor store summarises sparse-encoded
 * gradients straight from their stored form, visiting only the non-zero values).
 */
import { resizeBilinearAdd } from './resize.ts';

export const SALIENCY_METHODS = [
  'FULLGRAD',
  'SIMPLE_FULLGRAD',
  'INPUT_X_GRADIENT',
  'GRAD_CAM',
  'INTEGRATED_GRADIENTS',
] as const;
export type SaliencyMethod = (typeof SALIENCY_METHODS)[number];

/**
 * Methods computed by running the debug graph (explain-class.ts), never from a step's stored tensors:
 * Grad-CAM reads last-stage activations the hook's collections do not save by default, and Integrated
 * Gradients needs gradients along a path of images.
 */
export const MODEL_RUN_METHODS = ['GRAD_CAM', 'INTEGRATED_GRADIENTS'] as const satisfies readonly SaliencyMethod[];
export type ModelRunMethod = (typeof MODEL_RUN_METHODS)[number];

export function isModelRunMethod(method: SaliencyMethod): method is ModelRunMethod {
  return (MODEL_RUN_METHODS as readonly string[]).includes(method);
}

/** the reference's minmax epsilon */
export const MINMAX_EPS = 1e-12;

/** one pass over a site's output_grad g[c,h,w] with per-channel weights w_c (|bias|, or 1) */
export interface SiteSummary {
  /** S[h,w] = Σ_c w_c·|g[c,h,w]| */
  sum: Float64Array;
  /** min and max of w_c·|g[c,h,w]| over all C × H × W values */
  min: number;
  max: number;
  /** Σ_hw g[c,h,w] per channel (unweighted, signed) */
  channelSums: Float64Array;
}

export interface SiteGradient {
  name: string;
  /** [C, H, W] of one image */
  shape: readonly [number, number, number];
  /** output_grad, C·H·W values — or `summarize` */
  grad?: Float32Array;
  /** computes the summary from another representation of output_grad (weights null = all 1) */
  summarize?: (weights: Float64Array | null) => SiteSummary;
  /** the site's FullGrad bias, C values (needed by FULLGRAD and the completeness check) */
  bias?: ArrayLike<number>;
}

export interface SaliencyInputs {
  /** the preprocessed image, [C, H, W] */
  input: Float32Array;
  inputGrad: Float32Array;
  inputShape: readonly [number, number, number];
  /** every bias site of the network (FULLGRAD and SIMPLE_FULLGRAD) */
  sites: readonly SiteGradient[];
}

export interface SaliencyMapData {
  method: SaliencyMethod;
  width: number;
  height: number;
  /** row-major height × width */
  values: Float32Array;
  /**
   * The completeness sums, gathered in the same pass: Σ input·input_grad, and Σ_sites Σ_c bias[c]·Σ_hw
   * output_grad when every site was read with its bias (else null).
   */
  terms: { input: number; bias: number | null };
}

/** what each method reads: the input term always, the sites' gradients for the FullGrad methods, biases for FULLGRAD */
export function methodNeeds(method: SaliencyMethod): { sites: boolean; biases: boolean } {
  return { sites: method !== 'INPUT_X_GRADIENT', biases: method === 'FULLGRAD' };
}

export function saliencyMap(method: SaliencyMethod, inputs: SaliencyInputs): SaliencyMapData {
  if (isModelRunMethod(method)) throw new Error(`${method} is computed by running the debug graph`);
  const [channels, height, width] = inputs.inputShape;
  const plane = height * width;
  checkLength('input', inputs.input, channels * plane);
  checkLength('input_grad', inputs.inputGrad, channels * plane);
  const out = new Float64Array(plane);

  // input × gradient, summed over channels, with min/max over all C × H × W values
  const sum = new Float64Array(plane);
  let min = Infinity;
  let max = -Infinity;
  let inputTerm = 0;
  const { input, inputGrad } = inputs;
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let p = 0; p < plane; p++) {
      const xg = input[base + p]! * inputGrad[base + p]!;
      inputTerm += xg;
      const v = Math.abs(xg);
      if (v < min) min = v;
      if (v > max) max = v;
      sum[p] = sum[p]! + v;
    }
  }
  if (method === 'INPUT_X_GRADIENT') {
    // minmax of the channel sum itself, over the H × W map
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < plane; p++) {
      const v = sum[p]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const scale = 1 / (hi - lo + MINMAX_EPS);
    for (let p = 0; p < plane; p++) out[p] = (sum[p]! - lo) * scale;
    return { method, width, height, values: Float32Array.from(out), terms: { input: inputTerm, bias: null } };
  }

  const scale = 1 / (max - min + MINMAX_EPS);
  for (let p = 0; p < plane; p++) out[p] = (sum[p]! - channels * min) * scale;

  const useBias = method === 'FULLGRAD';
  let biasTerm: number | null = inputs.sites.length ? 0 : null;
  // Sites of the same spatial size are summed (each with its own normalisation) before one resize per
  // size: resize(Σ_s a_s·S_s) + Σ_s b_s = Σ_s (a_s·resize(S_s) + b_s). ResNet18 has 20 sites in 5 sizes.
  const bySize = new Map<string, { h: number; w: number; acc: Float64Array; offset: number }>();
  for (const site of inputs.sites) {
    const [c, h, w] = site.shape;
    const sitePlane = h * w;
    if (useBias && (!site.bias || site.bias.length !== c)) {
      throw new Error(`${site.name}.bias must hold ${c} values, got ${site.bias?.length ?? 'none'}`);
    }
    const s = summarize(site, useBias ? Float64Array.from(site.bias!, Math.abs) : null);
    const scale = 1 / (s.max - s.min + MINMAX_EPS);
    let group = bySize.get(`${h}x${w}`);
    if (!group) bySize.set(`${h}x${w}`, (group = { h, w, acc: new Float64Array(sitePlane), offset: 0 }));
    const acc = group.acc;
    const siteSum = s.sum;
    for (let p = 0; p < sitePlane; p++) acc[p] = acc[p]! + siteSum[p]! * scale;
    group.offset -= c * s.min * scale;
    biasTerm =
      biasTerm !== null && site.bias && site.bias.length === c ? biasTerm + dot(site.bias, s.channelSums) : null;
  }
  for (const group of bySize.values())
    resizeBilinearAdd(group.acc, group.h, group.w, out, height, width, 1, group.offset);
  return { method, width, height, values: Float32Array.from(out), terms: { input: inputTerm, bias: biasTerm } };
}

function summarize(site: SiteGradient, weights: Float64Array | null): SiteSummary {
  const [c, h, w] = site.shape;
  const summary = site.grad ? summarizeDense(site.grad, site.shape, weights, site.name) : site.summarize?.(weights);
  if (!summary) throw new Error(`${site.name}.output_grad is missing`);
  if (summary.sum.length !== h * w || summary.channelSums.length !== c)
    throw new Error(`${site.name}.output_grad does not fit [${c},${h},${w}]`);
  return summary;
}

/** the summary of a dense [C,H,W] gradient */
export function summarizeDense(
  grad: Float32Array,
  shape: readonly [number, number, number],
  weights: Float64Array | null,
  name = 'site',
): SiteSummary {
  const [channels, h, w] = shape;
  const plane = h * w;
  checkLength(`${name}.output_grad`, grad, channels * plane);
  const sum = new Float64Array(plane);
  const channelSums = new Float64Array(channels);
  let min = Infinity;
  let max = -Infinity;
  for (let c = 0; c < channels; c++) {
    const weight = weights ? weights[c]! : 1;
    const base = c * plane;
    let channelSum = 0;
    for (let p = 0; p < plane; p++) {
      const g = grad[base + p]!;
      channelSum += g;
      const v = weight * Math.abs(g);
      if (v < min) min = v;
      if (v > max) max = v;
      sum[p] = sum[p]! + v;
    }
    channelSums[c] = channelSum;
  }
  return { sum, min, max, channelSums };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function checkLength(name: string, values: ArrayLike<number>, expected: number): void {
  if (values.length !== expected) throw new Error(`${name} holds ${values.length} values, expected ${expected}`);
}

export interface CompletenessInputs {
  input: Float32Array;
  inputGrad: Float32Array;
  /** every bias site with its bias */
  sites: readonly SiteGradient[];
  /** the classifier's bias */
  fcBias: ArrayLike<number>;
  /** the step's logits (the seed explained their argmax) */
  logits: ArrayLike<number>;
  /** the explained class; default argmax(logits), which is what a zero grad_seed selects */
  classId?: number;
}

export interface Completeness {
  classId: number;
  /** logits[classId] */
  logit: number;
  /** Σ input·input_grad + Σ_sites Σ_c bias[c]·Σ_hw output_grad[c,h,w] + fcBias[classId] */
  explained: number;
  /** |logit − explained| / |logit| */
  residual: number;
}

/**
 * FullGrad's completeness: the logit decomposes exactly into the input-gradient term and the bias-
 * gradient terms (the network is piecewise linear: ReLU, convolutions with folded BatchNorm, pooling).
 */
export function completeness(inputs: CompletenessInputs): Completeness {
  const { input, inputGrad } = inputs;
  checkLength('input_grad', inputGrad, input.length);
  let inputTerm = 0;
  for (let i = 0; i < input.length; i++) inputTerm += input[i]! * inputGrad[i]!;
  let biasTerm = 0;
  for (const site of inputs.sites) {
    if (!site.bias || site.bias.length !== site.shape[0])
      throw new Error(`${site.name}.bias must hold ${site.shape[0]} values`);
    biasTerm += dot(site.bias, summarize(site, null).channelSums);
  }
  return completenessFromTerms({ input: inputTerm, bias: biasTerm }, inputs.fcBias, inputs.logits, inputs.classId)!;
}

/**
 * The completeness check from a map's `terms` (gathered while computing it) — the same numbers as
 * `completeness()` without a second pass over the tensors. Null when the map was computed without
 * every site's bias.
 */
export function completenessFromTerms(
  terms: SaliencyMapData['terms'],
  fcBias: ArrayLike<number>,
  logits: ArrayLike<number>,
  classId = argmax(logits),
): Completeness | null {
  if (terms.bias === null) return null;
  const explained = terms.input + terms.bias + fcBias[classId]!;
  const logit = logits[classId]!;
  return { classId, logit, explained, residual: Math.abs(logit - explained) / Math.abs(logit) };
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** min and max of a map */
export function mapRange(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}
