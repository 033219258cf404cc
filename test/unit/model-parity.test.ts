/**
 * The TypeScript side of the model against PyTorch's reference values (models/gtsrb-resnet18/fixtures/
 * fixtures.json, written by training/fixtures.py; read its `definitions`). No Python needed.
 *
 * - preprocessing: prepareImage on each fixture file vs PIL's resized uint8 image (`resizedRgbU8`),
 *   mean |Δ| in the [0,1] scale ≤ 1/255 (the measured number is in the test name);
 * - writeNormalised on PIL's own resized bytes vs the reference tensor's statistics;
 * - serving graph (onnxruntime-node) on PIL's exact resized images vs the float64 reference logits;
 * - debug graph (zero seed = the predicted class): the class, FullGrad completeness computed here, and
 *   the reductions (sum, absSum, l2, min, max) of every debug output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PreprocessSpec, prepareImage, writeNormalised } from '../../src/inference/preprocess.ts';
import { createLogger } from '../../src/logger.ts';
import { ModelCatalog } from '../../src/models/catalog.ts';
import { ModelRuntime } from '../../src/models/runtime.ts';
import { relativeError } from '../helpers/numeric.ts';

const MODEL = 'gtsrb-resnet18';
const MODEL_DIR = path.resolve(import.meta.dirname, '../../models');
const FIXTURE_DIR = path.join(MODEL_DIR, MODEL, 'fixtures');

interface Reduction {
  sum: number;
  absSum: number;
  l2: number;
  min: number;
  max: number;
}
interface FixtureImage {
  file: string;
  width: number;
  height: number;
  resizedRgbU8: string;
  tensorStats: { mean: number[]; std: number[]; first: number[] };
  logits: number[];
  predictedClass: number;
  completeness: { logit: number; fullgradSum: number; residual: number; relativeResidual: number };
  debugReductions: Record<string, Reduction>;
}
interface Fixtures {
  inputSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  images: FixtureImage[];
}

const fixtures = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, 'fixtures.json'), 'utf8')) as Fixtures;
const catalog = new ModelCatalog(MODEL_DIR);
const entry = catalog.get(MODEL);
if (!entry?.manifest.debug || !entry.manifest.fcBias) throw new Error(`${MODEL} lacks its debug graph or fcBias`);
const manifest = { ...entry.manifest, debug: entry.manifest.debug, fcBias: entry.manifest.fcBias };
const spec: PreprocessSpec = manifest;
const [H, W] = manifest.inputSize;
const PLANE = 3 * H * W;
const CLASSES = manifest.classCount;
const images = fixtures.images;
const N = images.length;

/** PIL's resized bytes, one per fixture */
const reference = images.map((im) => new Uint8Array(Buffer.from(im.resizedRgbU8, 'base64')));

/** mean |ts − pil| / 255 and the largest |Δ| in uint8 levels */
function resizeDifference(ts: Uint8Array, pil: Uint8Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < pil.length; i++) {
    const d = Math.abs(ts[i]! - pil[i]!);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / pil.length / 255, max };
}

// measured at collection time so the numbers can be part of the test names
const preprocessing = await Promise.all(
  images.map(async (im, i) => {
    const prepared = await prepareImage(fs.readFileSync(path.join(FIXTURE_DIR, im.file)), spec, {
      maxPixels: 40_000_000,
    });
    return { prepared, ...resizeDifference(prepared.resized, reference[i]!) };
  }),
);

/** PIL's resized images, normalised by writeNormalised, as one [N,3,H,W] batch */
const batch = new Float32Array(N * PLANE);
reference.forEach((u8, i) => writeNormalised(u8, spec, batch, i * PLANE));

function reduce(data: Float32Array, from: number, to: number): Reduction {
  let sum = 0;
  let absSum = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = from; i < to; i++) {
    const v = data[i]!;
    sum += v;
    absSum += Math.abs(v);
    squares += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { sum, absSum, l2: Math.sqrt(squares), min, max };
}

describe(`${MODEL} parity with PyTorch (fixtures.json, ${N} images)`, () => {
  it('has the fixtures and model the test expects', () => {
    expect(N).toBe(8);
    expect(fixtures.inputSize).toEqual(manifest.inputSize);
    expect(fixtures.mean).toEqual(manifest.mean);
    expect(fixtures.std).toEqual(manifest.std);
    expect(manifest.tensorSites).toHaveLength(20);
    expect(manifest.fcBias).toHaveLength(CLASSES);
    for (const u8 of reference) expect(u8.length).toBe(H * W * 3);
  });

  describe('preprocessing: prepareImage vs PIL resize((128,128), BILINEAR)', () => {
    images.forEach((im, i) => {
      const { mean, max } = preprocessing[i]!;
      it(`${im.file} (${im.width}×${im.height}): mean |Δ| = ${mean.toExponential(2)} (${(mean * 255).toFixed(3)} levels, max ${max}) ≤ 1/255`, () => {
        const { prepared } = preprocessing[i]!;
        expect([prepared.width, prepared.height]).toEqual([im.width, im.height]);
        expect(prepared.resized.length).toBe(H * W * 3);
        expect(mean).toBeLessThanOrEqual(1 / 255);
      });
    });
  });

  describe("writeNormalised on PIL's resized bytes vs the reference tensor", () => {
    images.forEach((im, i) => {
      it(im.file, () => {
        const x = batch.subarray(i * PLANE, (i + 1) * PLANE);
        expect(Array.from(x.subarray(0, im.tensorStats.first.length))).toEqual(
          im.tensorStats.first.map((v) => expect.closeTo(v, 6)),
        );
        for (let c = 0; c < 3; c++) {
          const plane = x.subarray(c * H * W, (c + 1) * H * W);
          let sum = 0;
          for (const v of plane) sum += v;
          const mean = sum / plane.length;
          let squares = 0;
          for (const v of plane) squares += (v - mean) ** 2;
          const std = Math.sqrt(squares / plane.length);
          expect(Math.abs(mean - im.tensorStats.mean[c]!)).toBeLessThan(1e-6);
          // population or sample std: 1/(2·49152) relative apart, far below the tolerance either way
          expect(Math.abs(std - im.tensorStats.std[c]!) / im.tensorStats.std[c]!).toBeLessThan(2e-5);
        }
      });
    });
  });

  describe('onnxruntime-node', () => {
    let runtime: ModelRuntime;
    beforeAll(async () => {
      runtime = await ModelRuntime.load(entry, 'cpu', createLogger('silent'));
    });
    afterAll(async () => {
      await runtime?.release();
    });

    it('serving graph: logits on the 8 PIL-resized images (one batch) within 1e-4 relative of the reference', async () => {
      const logits = await runtime.runServing(batch, N);
      expect(logits.length).toBe(N * CLASSES);
      const errors = images.map((im, i) => relativeError(logits.subarray(i * CLASSES, (i + 1) * CLASSES), im.logits));
      console.log(
        `serving logits, max |Δ| / max |logit| per image: ${errors.map((e) => e.toExponential(2)).join(' ')}`,
      );
      for (const [i, im] of images.entries()) {
        expect(errors[i]).toBeLessThan(1e-4);
        const row = Array.from(logits.subarray(i * CLASSES, (i + 1) * CLASSES));
        expect(row.indexOf(Math.max(...row))).toBe(im.predictedClass);
      }
      // a different image's logits are far off: the comparison can fail
      expect(relativeError(logits.subarray(0, CLASSES), images[1]!.logits)).toBeGreaterThan(1e-2);
    });

    describe('debug graph, zero seed (explains the predicted class)', () => {
      const fetch = manifest.debug.outputNames.filter((name) => name !== 'logits');
      let run: Awaited<ReturnType<ModelRuntime['runDebug']>>;
      beforeAll(async () => {
        run = await runtime.runDebug(batch, N, fetch);
      }, 120_000);

      it('predicts the reference class and uses a one-hot seed for it', () => {
        const seed = run.outputs.get('grad_seed_used')!;
        expect(seed.dims).toEqual([N, CLASSES]);
        for (const [i, im] of images.entries()) {
          const row = Array.from(run.logits.subarray(i * CLASSES, (i + 1) * CLASSES));
          expect(row.indexOf(Math.max(...row))).toBe(im.predictedClass);
          expect(relativeError(row, im.logits)).toBeLessThan(1e-4);
          const oneHot = Array.from({ length: CLASSES }, (_, k) => (k === im.predictedClass ? 1 : 0));
          expect(Array.from(seed.data.subarray(i * CLASSES, (i + 1) * CLASSES))).toEqual(oneHot);
        }
      });

      it('FullGrad completeness: Σ image·input_grad + Σ_sites Σ_c bias_c·Σ_hw output_grad + fcBias = logit (1e-3 relative)', () => {
        const inputGrad = run.outputs.get('input_grad')!;
        expect(inputGrad.dims).toEqual([N, 3, H, W]);
        const lines: string[] = [];
        let largestInputShare = 0;
        let largestBiasShare = 0;
        for (const [i, im] of images.entries()) {
          const cls = im.predictedClass;
          const logit = run.logits[i * CLASSES + cls]!;
          let inputTerm = 0;
          for (let j = 0; j < PLANE; j++) inputTerm += batch[i * PLANE + j]! * inputGrad.data[i * PLANE + j]!;
          let biasTerm = 0;
          let biasAbs = 0;
          for (const site of manifest.tensorSites) {
            const grad = run.outputs.get(site.outputGrad)!;
            const [C, h, w] = site.shape;
            expect(grad.dims).toEqual([N, C, h, w]);
            const hw = h * w;
            for (let c = 0; c < C; c++) {
              let g = 0;
              const base = (i * C + c) * hw;
              for (let p = 0; p < hw; p++) g += grad.data[base + p]!;
              biasTerm += site.bias[c]! * g;
              biasAbs += Math.abs(site.bias[c]! * g);
            }
          }
          const fcTerm = manifest.fcBias[cls]!;
          const total = inputTerm + biasTerm + fcTerm;
          const relative = (total - logit) / Math.abs(logit);
          lines.push(
            `${im.file}: class ${cls} logit ${logit.toFixed(4)} = input ${inputTerm.toFixed(4)} + biases ${biasTerm.toFixed(4)} + fc ${fcTerm.toFixed(4)}; relative residual ${relative.toExponential(2)}`,
          );
          expect(Math.abs(relative)).toBeLessThan(1e-3);
          // the same decomposition in the float64 reference
          expect(Math.abs(logit - im.completeness.logit) / Math.abs(im.completeness.logit)).toBeLessThan(1e-4);
          // non-trivial terms: the bias terms are many and large, the logit is not ~0
          expect(biasAbs).toBeGreaterThan(0.5 * Math.abs(logit));
          expect(Math.abs(logit)).toBeGreaterThan(1);
          largestInputShare = Math.max(largestInputShare, Math.abs(inputTerm) / Math.abs(logit));
          largestBiasShare = Math.max(largestBiasShare, Math.abs(biasTerm) / Math.abs(logit));
        }
        // leaving out the input term or the bias terms would break the equality (far beyond 1e-3)
        expect(largestInputShare).toBeGreaterThan(0.05);
        expect(largestBiasShare).toBeGreaterThan(0.5);
        console.log(`FullGrad completeness (onnxruntime-node, float32):\n  ${lines.join('\n  ')}`);
      });

      it('every debug output: sum, absSum, l2, min, max as in debugReductions (1e-3 relative)', () => {
        const names = Object.keys(images[0]!.debugReductions);
        expect(names).toContain('input_grad');
        expect(names.length).toBe(manifest.debug.outputNames.length - 1); // all but grad_seed_used
        let worst = { what: '', error: 0 };
        const note = (what: string, error: number) => {
          if (error > worst.error) worst = { what, error };
          return error;
        };
        for (const [i, im] of images.entries()) {
          for (const name of names) {
            const ref = im.debugReductions[name]!;
            const out = name === 'logits' ? { dims: [N, CLASSES], data: run.logits } : run.outputs.get(name)!;
            expect(out, name).toBeDefined();
            const per = out.data.length / N;
            const got = reduce(out.data, i * per, (i + 1) * per);
            const where = `${im.file} ${name}`;
            // sums of many signed values cancel (|sum| down to 1e-5·absSum here): their float32 error
            // scales with absSum, so the scale is |sum| + 1e-2·absSum
            const sumScale = Math.abs(ref.sum) + 1e-2 * ref.absSum;
            expect(note(`${where} sum`, Math.abs(got.sum - ref.sum) / sumScale), `${where} sum`).toBeLessThan(1e-3);
            expect(
              note(`${where} absSum`, Math.abs(got.absSum - ref.absSum) / ref.absSum),
              `${where} absSum`,
            ).toBeLessThan(1e-3);
            expect(note(`${where} l2`, Math.abs(got.l2 - ref.l2) / ref.l2), `${where} l2`).toBeLessThan(1e-3);
            const range = Math.max(Math.abs(ref.min), Math.abs(ref.max));
            expect(note(`${where} min`, Math.abs(got.min - ref.min) / range), `${where} min`).toBeLessThan(1e-3);
            expect(note(`${where} max`, Math.abs(got.max - ref.max) / range), `${where} max`).toBeLessThan(1e-3);
          }
        }
        console.log(`debug reductions: worst relative error ${worst.error.toExponential(2)} (${worst.what})`);
        // another image's reductions do not match: the comparison can fail
        const other = reduce(run.outputs.get('input_grad')!.data, 0, PLANE);
        expect(
          Math.abs(other.l2 - images[1]!.debugReductions.input_grad!.l2) / images[1]!.debugReductions.input_grad!.l2,
        ).toBeGreaterThan(1e-2);
      });
    });
  });
});
