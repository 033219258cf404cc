/**
 * One image attacked end to end, shared by the server and the CLI: decode and preprocess as predict does
 * → classify → the attack on the normalised 128×128 tensor → 8-bit pixels → PNG → decoded again through
 * the predict path (sharp + PIL resize + normalisation) and classified: success is that answer. The
 * perturbation is measured between the preprocessed original and the adversarial PNG, in pixel levels.
 */
import sharp from 'sharp';
import { argmax } from '../explain/fullgrad.ts';
import { type DecodeLimits, type PreprocessSpec, prepareImage, writeNormalised } from '../inference/preprocess.ts';
import { softmax } from '../inference/scores.ts';
import { specOf } from '../inference/service.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import { type AttackMethod, type GradientOracle, runAttack } from './methods.ts';

export interface AttackParameters {
  method: AttackMethod;
  target: number;
  maxIterations: number;
  /** L∞ radius in pixel levels (PGD, BIM, FGSM) */
  epsilon?: number | undefined;
  /** pixel levels per PGD/BIM step */
  stepSize?: number | undefined;
  /** PGD's random start: deterministic when given */
  random?: (() => number) | undefined;
  signal?: AbortSignal | undefined;
}

export interface AttackResult {
  /** the adversarial image: 128×128 RGB PNG */
  png: Uint8Array;
  /** the attacked image as the model saw it (preprocessed): 128×128 RGB PNG, for the difference figure */
  original: Uint8Array;
  originalClass: number;
  /** the class of the PNG decoded again through the predict path */
  adversarialClass: number;
  /** softmax probability of the target for that PNG */
  targetConfidence: number;
  /** ‖adversarial − original‖₂ over all H×W×3 values, in pixel levels (0–255) */
  l2: number;
  /** max |adversarial − original|, in pixel levels */
  linf: number;
  iterations: number;
  /** adversarialClass === target */
  success: boolean;
}

/** the model's gradients and logits, one image at a time, through the debug and serving graphs */
export function oracleOf(runtime: ModelRuntime): GradientOracle {
  return {
    classCount: runtime.classCount,
    gradient: (x, seed) => runtime.runInputGradient(x, 1, seed),
    logits: (x) => runtime.runServing(x, 1),
  };
}

export async function attackImage(
  runtime: ModelRuntime,
  bytes: Uint8Array,
  limits: DecodeLimits,
  parameters: AttackParameters,
): Promise<AttackResult> {
  const spec = specOf(runtime);
  const prepared = await prepareImage(bytes, spec, limits);
  const original = normalised(prepared.resized, spec);
  const originalClass = argmax(await runtime.runServing(original, 1));

  // the PNG the last accepted (or last) iterate makes, and its classification through the predict path
  let checked: { png: Uint8Array; pixels: Uint8Array; probabilities: Float64Array } | undefined;
  const classifyPng = async (x: Float32Array) => {
    const pixels = toPixels(x, spec);
    const png = await encodePng(pixels, spec);
    const decoded = await prepareImage(png, spec, limits);
    const probabilities = softmax(await runtime.runServing(normalised(decoded.resized, spec), 1));
    checked = { png, pixels, probabilities };
    return probabilities;
  };
  const outcome = await runAttack(
    oracleOf(runtime),
    original,
    originalClass,
    { ...parameters, mean: spec.mean, std: spec.std },
    async (x) => argmax(await classifyPng(x)) === parameters.target,
  );
  if (!outcome.success || !checked) await classifyPng(outcome.x);
  const { png, pixels, probabilities } = checked!;
  const adversarialClass = argmax(probabilities);
  return {
    png,
    original: await encodePng(prepared.resized, spec),
    originalClass,
    adversarialClass,
    targetConfidence: probabilities[parameters.target]!,
    ...perturbation(prepared.resized, pixels),
    iterations: outcome.iterations,
    success: adversarialClass === parameters.target,
  };
}

function normalised(resized: Uint8Array, spec: PreprocessSpec): Float32Array {
  const out = new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]);
  writeNormalised(resized, spec, out);
  return out;
}

/** normalised CHW → 8-bit HWC, rounded and clamped to 0–255 (what a PNG holds) */
export function toPixels(x: Float32Array, spec: PreprocessSpec): Uint8Array {
  const plane = spec.inputSize[0] * spec.inputSize[1];
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const s = spec.std[c]!;
    const m = spec.mean[c]!;
    for (let p = 0; p < plane; p++) {
      const v = Math.round((x[c * plane + p]! * s + m) * 255);
      out[p * 3 + c] = Math.min(Math.max(v, 0), 255);
    }
  }
  return out;
}

export function encodePng(pixels: Uint8Array, spec: PreprocessSpec): Promise<Buffer> {
  const [height, width] = spec.inputSize;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** L2 and L∞ of b − a, in pixel levels */
export function perturbation(a: Uint8Array, b: Uint8Array): { l2: number; linf: number } {
  let sum = 0;
  let linf = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(b[i]! - a[i]!);
    sum += d * d;
    if (d > linf) linf = d;
  }
  return { l2: Math.sqrt(sum), linf };
}
