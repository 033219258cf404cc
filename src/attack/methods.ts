/**
 * Targeted adversarial attacks on the model's normalised input tensor (CHW float32), with gradients from
 * the debug graph: its `grad_seed` selects the linear combination of logits whose input gradient comes
 * back, so ∇(logit_t − logit_o) (DeepFool) and ∇ cross-entropy (PGD, FGSM, BIM) each take one run.
 *
 * - DEEPFOOL: AdvBox's targeted DeepFoolAttack as the write-up ran it (iterations 100, overshoot 0.02):
 *   with o the original class and t the target, each step moves x by
 *   (1 + overshoot) · (|f_t − f_o| + 1e-8) / ‖w‖² · w, w = ∇(f_t − f_o), then clips to the bounds.
 * - PGD: targeted projected gradient descent on the cross-entropy of the target, L∞ ball of `epsilon`
 *   pixel levels, `stepSize` per step, random start in the ball.
 * - BIM: PGD without the random start. FGSM: one step of size epsilon.
 *
 * Bounds: the write-up clipped to (−3, 3); a PNG holds only 0–255, so x is clipped to each channel's
 * pixel range [−mean/std, (1 − mean)/std] (inside (−3, 3)): the point the attack reaches is one a PNG can
 * hold. Success is decided by `accept` (the caller quantises to 8 bits and classifies the decoded PNG):
 * the loop stops at the first accepted iterate, and keeps going past float-only successes.
 */
import { argmax } from '../explain/fullgrad.ts';
import { clientGone } from '../inference/batcher.ts';
import { softmax } from '../inference/scores.ts';

export const ATTACK_METHODS = ['DEEPFOOL', 'PGD', 'BIM', 'FGSM'] as const;
export type AttackMethod = (typeof ATTACK_METHODS)[number];

/** what the attack needs of a model: logits and input gradients for a seed, one image at a time */
export interface GradientOracle {
  classCount: number;
  /** logits at x, and ∇_x Σ_k seed[k]·logits[k] */
  gradient(x: Float32Array, seed: Float32Array): Promise<{ logits: Float32Array; inputGrad: Float32Array }>;
  /** logits at x (forward only) */
  logits(x: Float32Array): Promise<Float32Array>;
}

export interface AttackOptions {
  method: AttackMethod;
  target: number;
  /** iterations at most (FGSM: 1) */
  maxIterations: number;
  /** DeepFool's overshoot (default 0.02) */
  overshoot?: number;
  /** L∞ radius in pixel levels (0–255) for PGD, BIM, FGSM */
  epsilon?: number;
  /** pixel levels per PGD/BIM step (default max(epsilon/4, 0.5)) */
  stepSize?: number;
  /** PGD's random start; deterministic when seeded */
  random?: () => number;
  /** per-channel normalisation (the manifest's) */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** checked between iterations: a request whose client left stops */
  signal?: AbortSignal | undefined;
}

export interface AttackOutcome {
  /** the last iterate (the accepted one on success) */
  x: Float32Array;
  /** model runs taken (gradient steps) */
  iterations: number;
  success: boolean;
}

/** accepts an iterate: true when its 8-bit PNG is classified as the target */
export type Accept = (x: Float32Array) => Promise<boolean>;

export const DEEPFOOL_OVERSHOOT = 0.02;
export const DEFAULT_EPSILON = 8;

export async function runAttack(
  oracle: GradientOracle,
  original: Float32Array,
  originalClass: number,
  options: AttackOptions,
  accept: Accept,
): Promise<AttackOutcome> {
  // already the target: nothing to move (DeepFool's seed would be all zero, meaning "the predicted class")
  if (originalClass === options.target) return { x: original, iterations: 0, success: await accept(original) };
  const bounds = pixelBounds(original.length, options.mean, options.std);
  if (options.method === 'DEEPFOOL') return deepFool(oracle, original, originalClass, options, bounds, accept);
  return projectedGradient(oracle, original, options, bounds, accept);
}

interface Bounds {
  lo: Float32Array;
  hi: Float32Array;
  /** one pixel level in normalised units, per element */
  level: Float32Array;
}

/** each element's pixel range in normalised units, and the size of one level */
function pixelBounds(length: number, mean: readonly number[], std: readonly number[]): Bounds {
  const plane = length / 3;
  const lo = new Float32Array(length);
  const hi = new Float32Array(length);
  const level = new Float32Array(length);
  for (let c = 0; c < 3; c++) {
    const s = std[c]!;
    const m = mean[c]!;
    lo.fill(-m / s, c * plane, (c + 1) * plane);
    hi.fill((1 - m) / s, c * plane, (c + 1) * plane);
    level.fill(1 / (255 * s), c * plane, (c + 1) * plane);
  }
  return { lo, hi, level };
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw clientGone();
}

async function deepFool(
  oracle: GradientOracle,
  original: Float32Array,
  originalClass: number,
  options: AttackOptions,
  bounds: Bounds,
  accept: Accept,
): Promise<AttackOutcome> {
  const { target } = options;
  const overshoot = options.overshoot ?? DEEPFOOL_OVERSHOOT;
  const x = Float32Array.from(original);
  // ∇(f_t − f_o): the seed is one-hot(t) − one-hot(o)
  const seed = new Float32Array(oracle.classCount);
  seed[target] = 1;
  seed[originalClass] = -1;
  let iterations = 0;
  while (iterations < options.maxIterations) {
    stopIfAborted(options.signal);
    const { logits, inputGrad: w } = await oracle.gradient(x, seed);
    if (iterations > 0 && argmax(logits) === target && (await accept(x))) return { x, iterations, success: true };
    const f = logits[target]! - logits[originalClass]!;
    let norm2 = 0;
    for (let i = 0; i < w.length; i++) norm2 += w[i]! * w[i]!;
    const norm = Math.sqrt(norm2) + 1e-8;
    // AdvBox: r = w · (|f| + 1e-8) / ‖w‖ / ‖w‖, x += (1 + overshoot) · r
    const scale = ((1 + overshoot) * (Math.abs(f) + 1e-8)) / (norm * norm);
    for (let i = 0; i < x.length; i++) x[i] = clamp(x[i]! + scale * w[i]!, bounds.lo[i]!, bounds.hi[i]!);
    iterations++;
  }
  const logits = await oracle.logits(x);
  const success = argmax(logits) === target && (await accept(x));
  return { x, iterations, success };
}

async function projectedGradient(
  oracle: GradientOracle,
  original: Float32Array,
  options: AttackOptions,
  bounds: Bounds,
  accept: Accept,
): Promise<AttackOutcome> {
  const { target } = options;
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  const single = options.method === 'FGSM';
  const steps = single ? 1 : options.maxIterations;
  const stepSize = single ? epsilon : (options.stepSize ?? Math.max(epsilon / 4, 0.5));
  const x = Float32Array.from(original);
  if (options.method === 'PGD') {
    const random = options.random ?? Math.random;
    for (let i = 0; i < x.length; i++) {
      const offset = (2 * random() - 1) * epsilon * bounds.level[i]!;
      x[i] = clamp(original[i]! + offset, bounds.lo[i]!, bounds.hi[i]!);
    }
  }
  let logits = await oracle.logits(x);
  const seed = new Float32Array(oracle.classCount);
  let iterations = 0;
  while (iterations < steps) {
    stopIfAborted(options.signal);
    if (iterations > 0 && argmax(logits) === target && (await accept(x))) return { x, iterations, success: true };
    // ∇ of the target's cross-entropy, −log p_t = logsumexp(f) − f_t: the seed is p − one-hot(t)
    const p = softmax(logits);
    for (let k = 0; k < seed.length; k++) seed[k] = p[k]! - (k === target ? 1 : 0);
    const { inputGrad } = await oracle.gradient(x, seed);
    for (let i = 0; i < x.length; i++) {
      const level = bounds.level[i]!;
      // descend the loss by stepSize levels, then back into the ε-ball and the pixel range
      const stepped = x[i]! - stepSize * level * Math.sign(inputGrad[i]!);
      const radius = epsilon * level;
      const inBall = clamp(stepped, original[i]! - radius, original[i]! + radius);
      x[i] = clamp(inBall, bounds.lo[i]!, bounds.hi[i]!);
    }
    iterations++;
    logits = await oracle.logits(x);
  }
  const success = argmax(logits) === target && (await accept(x));
  return { x, iterations, success };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
