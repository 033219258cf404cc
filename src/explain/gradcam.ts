/**
 * Grad-CAM (Selvaraju et al., 2017) on the last convolutional stage, from debug-graph tensors (pure
 * functions, no I/O).
 *
 * The stage's output A (layer4's, after its last ReLU, [512, 4, 4] at 128×128) is not a graph output,
 * but its parts are: A = relu(Z) with Z = `layer4.1.bn2.output` + X (the block's identity), and
 * X = relu(`layer4.0.bn2.output` + `layer4.0.downsample.output`) (the first block's output). Its
 * gradient is spatially constant per channel (A only feeds the average pool and the classifier), and
 * `layer4.1.bn2.output_grad` = ∂f/∂Z = ∂f/∂A · 1[Z > 0]: so α_c = mean_hw ∂f/∂A[c] is that gradient at
 * any position where Z[c] > 0 (averaged over those positions), and a channel with none has A[c] = 0 and
 * no part in the map. Then
 *
 *   cam = relu(Σ_c α_c A[c])           (4 × 4, `cam`)
 *   map = minmax(resize(cam))          (bilinear, align_corners=False, to the input size; eps 1e-12)
 *
 * For a seed other than one class the gradients are of the seed's combination of logits, as for every
 * method.
 */
import { MINMAX_EPS } from './fullgrad.ts';
import { resizeBilinear } from './resize.ts';

/** the debug-graph outputs Grad-CAM reads (ResNet18's last stage) */
export const GRAD_CAM_OUTPUTS = {
  firstBlock: 'layer4.0.bn2.output',
  firstShortcut: 'layer4.0.downsample.output',
  lastBlock: 'layer4.1.bn2.output',
  lastBlockGrad: 'layer4.1.bn2.output_grad',
} as const;

export interface GradCamInputs {
  firstBlock: Float32Array;
  firstShortcut: Float32Array;
  lastBlock: Float32Array;
  lastBlockGrad: Float32Array;
  /** [C, h, w] of the stage */
  shape: readonly [number, number, number];
  /** the map's size: the input's [height, width] */
  outputSize: readonly [number, number];
}

export interface GradCamResult {
  /** relu(Σ_c α_c A[c]), h × w, before resizing */
  cam: Float64Array;
  /** the resized, min-max normalised map, height × width */
  values: Float32Array;
  width: number;
  height: number;
}

export function gradCam(inputs: GradCamInputs): GradCamResult {
  const [channels, h, w] = inputs.shape;
  const plane = h * w;
  const size = channels * plane;
  for (const key of ['firstBlock', 'firstShortcut', 'lastBlock', 'lastBlockGrad'] as const) {
    if (inputs[key].length !== size)
      throw new Error(`${GRAD_CAM_OUTPUTS[key]} holds ${inputs[key].length} values, expected ${size}`);
  }
  const { firstBlock, firstShortcut, lastBlock, lastBlockGrad } = inputs;
  const cam = new Float64Array(plane);
  const activation = new Float64Array(plane);
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    let gradSum = 0;
    let active = 0;
    for (let p = 0; p < plane; p++) {
      const i = base + p;
      const x = Math.max(firstBlock[i]! + firstShortcut[i]!, 0);
      const z = lastBlock[i]! + x;
      activation[p] = Math.max(z, 0);
      if (z > 0) {
        gradSum += lastBlockGrad[i]!;
        active++;
      }
    }
    if (!active) continue;
    const alpha = gradSum / active;
    for (let p = 0; p < plane; p++) cam[p] = cam[p]! + alpha * activation[p]!;
  }
  for (let p = 0; p < plane; p++) if (cam[p]! < 0) cam[p] = 0;
  const [height, width] = inputs.outputSize;
  const values = normaliseMinMax(resizeBilinear(cam, h, w, height, width));
  return { cam, values, width, height };
}

/** (v − min) / (max − min + 1e-12), in place */
export function normaliseMinMax(values: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = 1 / (hi - lo + MINMAX_EPS);
  for (let i = 0; i < values.length; i++) values[i] = (values[i]! - lo) * scale;
  return values;
}
