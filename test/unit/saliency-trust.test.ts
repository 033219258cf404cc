/**
 * Explanations you can trust: Grad-CAM and Integrated Gradients against PyTorch (training/
 * reference_saliency.py: the BN-folded ResNet18 rebuilt from the ONNX initializers, float64 autograd;
 * fixtures/reference-saliency.json), IG's completeness within its stated tolerance, Spearman's rank
 * correlation against a direct definition, and the sanity check (Adebayo et al., 2018) on a model whose
 * weights are shuffled: it separates a map that depends on the image from one that does not.
 *
 * Inputs are PyTorch's own resized pixels (`resizedRgbU8`), normalised with writeNormalised, as in
 * saliency-reference.test.ts.
 */

import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainClass } from '../../src/debugger/explain-class.ts';
import { SaliencyService } from '../../src/debugger/saliency.ts';
import type { TensorStore } from '../../src/debugger/store.ts';
import { normaliseMinMax } from '../../src/explain/gradcam.ts';
import { IG_COMPLETENESS_TOLERANCE } from '../../src/explain/integrated-gradients.ts';
import { resizeBilinear } from '../../src/explain/resize.ts';
import { rank, spearman } from '../../src/explain/sanity.ts';
import { writeNormalised } from '../../src/inference/preprocess.ts';
import { createLogger } from '../../src/logger.ts';
import { ModelCatalog } from '../../src/models/catalog.ts';
import { ModelRuntime } from '../../src/models/runtime.ts';
import { fixture } from '../helpers/images.ts';
import { b64f32, relativeError } from '../helpers/numeric.ts';

const MODEL_DIR = path.resolve(import.meta.dirname, '../../models');
const FIXTURE_DIR = path.join(MODEL_DIR, 'gtsrb-resnet18/fixtures');
const FIXTURES = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'fixtures.json'), 'utf8')) as {
  images: { file: string; resizedRgbU8: string; predictedClass: number }[];
};
interface Reference {
  file: string;
  classId: number;
  gradCam4x4: string;
  integratedGradients?: {
    baseline: 'BLACK';
    steps: number;
    logit: number;
    baselineLogit: number;
    attributionSum: number;
    channelSum32x32: string;
  };
}
const REFERENCE = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'reference-saliency.json'), 'utf8')) as {
  images: Reference[];
};

/** Spearman's ρ by its definition: ranks by counting (O(n²), ties averaged), then Pearson */
function naiveSpearman(a: number[], b: number[]): number {
  const ranks = (v: number[]) =>
    v.map((x) => 1 + v.filter((y) => y < x).length + (v.filter((y) => y === x).length - 1) / 2);
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (r: number[]) => r.reduce((s, x) => s + x, 0) / r.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < ra.length; i++) {
    cov += (ra[i]! - ma) * (rb[i]! - mb);
    va += (ra[i]! - ma) ** 2;
    vb += (rb[i]! - mb) ** 2;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}

describe("Spearman's rank correlation", () => {
  it('averages tied ranks and matches the definition', () => {
    expect(Array.from(rank([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [10, 100, 1000, 10_000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBe(0);
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 40 })
          .chain((n) =>
            fc.tuple(
              fc.array(fc.integer({ min: -5, max: 5 }), { minLength: n, maxLength: n }),
              fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
            ),
          ),
        ([a, b]) => Math.abs(spearman(a, b) - naiveSpearman(a, b)) < 1e-9,
      ),
    );
  });
});

describe('Grad-CAM and Integrated Gradients vs the PyTorch reference', () => {
  const entry = new ModelCatalog(MODEL_DIR).get('gtsrb-resnet18')!;
  let runtime: ModelRuntime;
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    runtime = await ModelRuntime.load(entry, 'cpu', createLogger('error'));
  });
  afterAll(async () => {
    await runtime?.release();
    console.log('Grad-CAM / IG vs PyTorch:', figures);
  });

  function inputOf(file: string): Float32Array {
    const image = FIXTURES.images.find((i) => i.file === file)!;
    const input = new Float32Array(3 * 128 * 128);
    writeNormalised(Buffer.from(image.resizedRgbU8, 'base64'), entry.manifest, input);
    return input;
  }

  it('Grad-CAM on layer4 matches at 4×4 (relative 1e-4) and as the upsampled map (1e-4), for every fixture', async () => {
    expect(REFERENCE.images).toHaveLength(FIXTURES.images.length);
    for (const ref of REFERENCE.images) {
      const result = await explainClass(runtime, inputOf(ref.file), ref.classId, 'GRAD_CAM');
      const expected = b64f32(ref.gradCam4x4);
      const cam = result.gradCam!;
      expect([cam.width, cam.height]).toEqual([4, 4]);
      const camError = relativeError(cam.values, expected);
      expect(camError, ref.file).toBeLessThan(1e-4);
      const map = normaliseMinMax(resizeBilinear(Float64Array.from(expected), 4, 4, 128, 128));
      const mapError = Math.max(...result.map.values.map((v, i) => Math.abs(v - map[i]!)));
      expect(mapError, ref.file).toBeLessThan(1e-4);
      figures[`gradCam.${ref.file}`] = camError;
      expect(result.completeness).toBeNull();
    }
  });

  it('Integrated Gradients (32 steps from BLACK) matches: attributions pooled to 32×32 within 5e-3 of their maximum (float32 vs float64: a path point near a ReLU kink), Σ within 1e-4 of |f(x) − f(x′)|', async () => {
    const withIg = REFERENCE.images.filter((r) => r.integratedGradients);
    expect(withIg.length).toBeGreaterThanOrEqual(3);
    for (const ref of withIg) {
      const ig = ref.integratedGradients!;
      const result = await explainClass(runtime, inputOf(ref.file), ref.classId, 'INTEGRATED_GRADIENTS', {
        ig: { steps: ig.steps, baseline: ig.baseline },
      });
      const c = result.integratedGradients!;
      const delta = ig.logit - ig.baselineLogit;
      expect(Math.abs(c.logit - ig.logit), ref.file).toBeLessThan(1e-4);
      expect(Math.abs(c.baselineLogit - ig.baselineLogit), ref.file).toBeLessThan(1e-4);
      const sumError = Math.abs(c.attributionSum - ig.attributionSum) / Math.abs(delta);
      expect(sumError, ref.file).toBeLessThan(1e-4);
      // the residual is the reference's: the quadrature's, not a discrepancy between the two
      const residual = Math.abs(ig.attributionSum - delta) / Math.abs(delta);
      // the two sums agree to 1e-4 of f(x) − f(x′) (above), so their residuals do too, to about twice that
      expect(Math.abs(c.residual - residual), ref.file).toBeLessThan(2e-4);
      expect(c.withinTolerance).toBe(residual <= IG_COMPLETENESS_TOLERANCE);
      const pooled = pool(result.attributions!, 128, 4);
      const pooledError = relativeError(pooled, b64f32(ig.channelSum32x32));
      expect(pooledError, ref.file).toBeLessThan(5e-3);
      figures[`ig.${ref.file}.pooled`] = pooledError;
      figures[`ig.${ref.file}.residual@${ig.steps}`] = c.residual;
    }
  });

  // how many steps a path needs depends on the model (how many ReLU kinks it crosses): the model bundled before
  // reached 0.025 at 128 steps on this fixture, the current one 0.36 at 128 and 0.014 at 256. What holds for any model: the
  // residual shrinks as the quadrature refines, and withinTolerance says whether it is under the stated tolerance.
  it(`IG's completeness: the residual of Σ attributions = f(x) − f(x′) shrinks with the steps, and withinTolerance reports it against ${IG_COMPLETENESS_TOLERANCE}`, async () => {
    const ref = REFERENCE.images.find((r) => r.file === 'stop_like_octagon.png')!;
    const residuals: number[] = [];
    for (const steps of [8, 64, 256]) {
      const result = await explainClass(runtime, inputOf(ref.file), ref.classId, 'INTEGRATED_GRADIENTS', {
        ig: { steps, baseline: 'BLACK' },
      });
      const c = result.integratedGradients!;
      figures[`ig.stop.residual@${steps}`] = c.residual;
      residuals.push(c.residual);
      expect(c.withinTolerance).toBe(c.residual <= IG_COMPLETENESS_TOLERANCE);
      // the completeness of the Explanation: logit = f(x′) + Σ attributions, relative to |logit|
      expect(result.completeness!.explained).toBeCloseTo(c.baselineLogit + c.attributionSum, 6);
    }
    expect(residuals[2]!).toBeLessThan(residuals[0]!);
  }, 240_000);
});

describe('the sanity check on a model whose weights are shuffled', () => {
  let dir: string;
  let runtime: ModelRuntime;
  let service: SaliencyService;

  beforeAll(async () => {
    // full randomisation: every float32 of weights.bin permuted (seeded), the graphs unchanged
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-shuffled-'));
    const source = path.join(MODEL_DIR, 'gtsrb-resnet18');
    const target = path.join(dir, 'gtsrb-resnet18');
    await fs.mkdir(target);
    for (const file of ['manifest.json', 'labels.json', 'serving.onnx', 'debug.onnx'])
      await fs.copyFile(path.join(source, file), path.join(target, file));
    const bytes = await fs.readFile(path.join(source, 'weights.bin'));
    const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    let state = 7;
    for (let i = weights.length - 1; i > 0; i--) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const j = Math.floor((state / 4294967296) * (i + 1));
      [weights[i], weights[j]] = [weights[j]!, weights[i]!];
    }
    await fs.writeFile(path.join(target, 'weights.bin'), new Uint8Array(weights.buffer));
    const catalog = new ModelCatalog(dir);
    runtime = await ModelRuntime.load(catalog.get('gtsrb-resnet18')!, 'cpu', createLogger('error'));
    service = new SaliencyService({
      store: {} as TensorStore,
      captures: { endpointOf: async () => null, input: async () => null },
      models: catalog,
      runtimes: { get: async () => runtime },
    });
  });
  afterAll(async () => {
    await runtime?.release();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("separates INPUT_X_GRADIENT's map (depends on the image) from Grad-CAM's (does not)", async () => {
    const bytes = fixture('gradient_128.png');
    const inputMap = await service.explainImage(bytes, 'gtsrb-resnet18', 'INPUT_X_GRADIENT', null);
    const camMap = await service.explainImage(bytes, 'gtsrb-resnet18', 'GRAD_CAM', null);
    const input = (await service.sanity(inputMap))!;
    const cam = (await service.sanity(camMap))!;
    console.log('shuffled weights, gradient_128.png:', { INPUT_X_GRADIENT: input, GRAD_CAM: cam });
    // measured: INPUT_X_GRADIENT ρ 0.29 (blank) / 0.21 (noise); Grad-CAM 0.997 / 0.992
    expect(input.dependsOnInput).toBe(true);
    expect(Math.max(input.blankRankCorrelation, input.noiseRankCorrelation)).toBeLessThan(0.4);
    expect(cam.dependsOnInput).toBe(false);
    expect(Math.min(cam.blankRankCorrelation, cam.noiseRankCorrelation)).toBeGreaterThan(0.8);
    // the threshold is applied on top of the cached correlations
    expect((await service.sanity(inputMap, 0.1))!.dependsOnInput).toBe(false);
  }, 120_000);
});

/** Σ_c of [3, size, size], average-pooled by `factor` */
function pool(values: Float64Array, size: number, factor: number): Float64Array {
  const out = size / factor;
  const pooled = new Float64Array(out * out);
  const plane = size * size;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const p = Math.floor(y / factor) * out + Math.floor(x / factor);
        pooled[p] = pooled[p]! + values[c * plane + y * size + x]! / (factor * factor);
      }
  return pooled;
}
