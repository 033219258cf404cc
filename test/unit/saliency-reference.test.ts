/**
 * Saliency maps computed in TypeScript (src/explain/fullgrad.ts) against PyTorch's float64 reference
 * maps (fixtures.json `maps.fullgrad | simpleFullgrad | inputXGradient`, per its `definitions`).
 *
 * For exactness the tensors come from PyTorch's own resized pixels (`resizedRgbU8`, PIL's resize; the
 * server resizes with sharp, see test/integration/debugger.test.ts for that path): normalised with
 * writeNormalised, run through the debug graph (ModelRuntime.runDebug, zero seed = predicted class),
 * and stored and read back exactly as the hook does (its per-tensor encodings: f32-deflate input,
 * f16-sparse-split gradients, f32 biases and logits).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTensor, encodeTensor, type TensorEncoding } from '../../src/debugger/encoding.ts';
import { encodingOf } from '../../src/debugger/hook.ts';
import { siteGradient } from '../../src/debugger/saliency.ts';
import { tensorCatalog } from '../../src/debugger/tensor-names.ts';
import { completeness, type SaliencyMethod, type SiteGradient, saliencyMap } from '../../src/explain/fullgrad.ts';
import { writeNormalised } from '../../src/inference/preprocess.ts';
import { createLogger } from '../../src/logger.ts';
import { ModelCatalog } from '../../src/models/catalog.ts';
import { ModelRuntime } from '../../src/models/runtime.ts';
import { b64f32, relativeError } from '../helpers/numeric.ts';

const MODEL_DIR = path.resolve(import.meta.dirname, '../../models');
const FIXTURES = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'gtsrb-resnet18/fixtures/fixtures.json'), 'utf8')) as {
  images: { file: string; resizedRgbU8: string; predictedClass: number; maps: Record<string, string> }[];
};
const METHODS: [SaliencyMethod, string][] = [
  ['FULLGRAD', 'fullgrad'],
  ['SIMPLE_FULLGRAD', 'simpleFullgrad'],
  ['INPUT_X_GRADIENT', 'inputXGradient'],
];

describe('saliency maps from stored tensors vs the PyTorch reference', () => {
  const entry = new ModelCatalog(MODEL_DIR).get('gtsrb-resnet18')!;
  const catalog = tensorCatalog(entry.manifest);
  const fcBias = entry.manifest.fcBias as number[];
  let runtime: ModelRuntime;
  const worst: Record<string, number> = {};

  beforeAll(async () => {
    runtime = await ModelRuntime.load(entry, 'cpu', createLogger('error'));
  });
  afterAll(async () => {
    await runtime?.release();
    console.log('worst relative errors and residuals:', worst);
  });

  /** the debug run of a fixture, its tensors through an encode/decode round trip */
  async function stored(image: (typeof FIXTURES.images)[number], lossy: TensorEncoding | 'none') {
    const [h, w] = entry.manifest.inputSize;
    const input = new Float32Array(3 * h * w);
    writeNormalised(Buffer.from(image.resizedRgbU8, 'base64'), entry.manifest, input);
    const fetch = ['input_grad', ...catalog.sites.map((s) => s.outputGrad)];
    const run = await runtime.runDebug(input, 1, fetch);
    const roundTrip = (name: string, kind: 'input' | 'output', values: Float32Array) => {
      if (lossy === 'none') return values;
      const encoding = encodingOf(name, kind, lossy);
      return decodeTensor(encodeTensor(values, encoding), encoding, values.length);
    };
    // the sites as the saliency service reads them: stored bytes (sparse ones summarised without decoding)
    const sites: SiteGradient[] = catalog.sites.map((site) => {
      const values = run.outputs.get(site.outputGrad)!.data;
      const bias = Float32Array.from(site.bias);
      if (lossy === 'none') return { name: site.name, shape: site.shape, grad: values, bias };
      const encoding = encodingOf(`${site.name}.output_grad`, 'output', lossy);
      const stored = {
        id: '',
        stepId: '',
        name: `${site.name}.output_grad`,
        shape: [1, ...site.shape],
        dtype: 'float32',
        encoding,
        bytes: 0,
        data: encodeTensor(values, encoding),
      };
      return siteGradient(site.name, stored, bias);
    });
    return {
      inputs: {
        input: roundTrip('input', 'input', input),
        inputGrad: roundTrip('input_grad', 'output', run.outputs.get('input_grad')!.data),
        inputShape: [3, h, w] as const,
        sites,
      },
      logits: run.logits,
    };
  }

  for (const image of FIXTURES.images) {
    it(`${image.file}: every method within 1e-3 of the reference after the hook's encoding (3e-4 unencoded: float32 model outputs against the float64 reference)`, async () => {
      for (const [encoding, tolerance] of [
        ['f16-sparse-split', 1e-3],
        ['none', 3e-4],
      ] as const) {
        const { inputs, logits } = await stored(image, encoding);
        for (const [method, key] of METHODS) {
          const map = saliencyMap(method, inputs);
          expect([map.width, map.height]).toEqual([128, 128]);
          const error = relativeError(map.values, b64f32(image.maps[key]!));
          worst[`${method} ${encoding}`] = Math.max(worst[`${method} ${encoding}`] ?? 0, error);
          expect(error, `${method} ${encoding}`).toBeLessThanOrEqual(tolerance);
        }
        const check = completeness({
          input: inputs.input,
          inputGrad: inputs.inputGrad,
          sites: inputs.sites,
          fcBias,
          logits,
        });
        worst[`residual ${encoding}`] = Math.max(worst[`residual ${encoding}`] ?? 0, check.residual);
        expect(check.classId).toBe(image.predictedClass);
        // the hook stores float16 activations: 1e-3 is the completeness the server itself accepts
        expect(check.residual).toBeLessThanOrEqual(encoding === 'none' ? 1e-5 : 1e-3);
      }
    });
  }

  it('the lossy encodings side by side: f16-deflate, f16-sparse-deflate and f16-sparse-split (both summarised from their bytes) give the same maps', async () => {
    const image = FIXTURES.images[0]!;
    const a = saliencyMap('FULLGRAD', (await stored(image, 'f16-deflate')).inputs);
    for (const encoding of ['f16-sparse-deflate', 'f16-sparse-split'] as const) {
      const b = saliencyMap('FULLGRAD', (await stored(image, encoding)).inputs);
      expect(Array.from(a.values), encoding).toEqual(Array.from(b.values));
    }
  });
});
