/**
 * `npx tsx bench/input-features.ts [-- --batch 8 --rounds 15]`: what input drift adds to a prediction.
 * Per image, interleaved rounds (medians): the serving graph fetching only the logits against fetching
 * the logits and the 512 features of the same run, and the work the request path adds per image
 * (image statistics of the resized image, the features in float16, the outlier score against a
 * profile of 16 components), as a share of the model run measured in the same run. Also the time a
 * baseline's input profile takes to fit (PCA of 1,000 vectors + held-out half).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { encodeFeatures } from '../src/capture/features.ts';
import { imageStats } from '../src/inference/image-stats.ts';
import { createLogger } from '../src/logger.ts';
import { ModelCatalog } from '../src/models/catalog.ts';
import { ModelRuntime } from '../src/models/runtime.ts';
import { fitInputProfile, outlierScore } from '../src/monitor/baselines/input-profile.ts';

const { values } = parseArgs({ options: { batch: { type: 'string' }, rounds: { type: 'string' } } });
const n = Number(values.batch ?? 8);
const rounds = Number(values.rounds ?? 15);
const runtime = await ModelRuntime.load(
  new ModelCatalog('models').get('gtsrb-resnet18')!,
  'cpu',
  createLogger('silent'),
);
const images = Float32Array.from({ length: n * 3 * 128 * 128 }, (_, i) => Math.sin(i * 0.001));
const { features } = await runtime.runServingWithFeatures(images, n);
if (!features) throw new Error('the serving graph has no features output: re-export with training/export.py');
const reference = Array.from({ length: 2000 }, (_, k) =>
  Float32Array.from({ length: 512 }, (_, i) => Math.abs(Math.sin(i * (k + 1) * 0.37)) + (k % 7) * 0.01),
);
let started = performance.now();
const profile = (await fitInputProfile(reference.map((f) => ({ features: f, imageStats: null }))))!;
const fitMs = performance.now() - started;
const resized = Uint8Array.from({ length: 128 * 128 * 3 }, (_, i) => (i * 31) & 255);
const one = features.subarray(0, 512);

const logitsOnly: number[] = [];
const withFeatures: number[] = [];
const added: number[] = [];
for (let round = 0; round < rounds; round++) {
  started = performance.now();
  await runtime.runServing(images, n);
  logitsOnly.push((performance.now() - started) / n);
  started = performance.now();
  await runtime.runServingWithFeatures(images, n);
  withFeatures.push((performance.now() - started) / n);
  started = performance.now();
  for (let i = 0; i < 50; i++) {
    imageStats(resized, 64, 60);
    encodeFeatures(one);
    outlierScore(profile, one);
  }
  added.push((performance.now() - started) / 50);
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const base = median(logitsOnly);
console.log(`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg()[0]!.toFixed(1)}`);
console.log(`per image, batch ${n}, median of ${rounds} interleaved rounds`);
console.log(`  serving graph, logits only        ${base.toFixed(2)} ms  1.000`);
console.log(
  `  serving graph, logits + features  ${median(withFeatures).toFixed(2)} ms  ${(median(withFeatures) / base).toFixed(3)}`,
);
console.log(`  stats + float16 + outlier score   ${median(added).toFixed(3)} ms  ${(median(added) / base).toFixed(3)}`);
console.log(`input profile of 2,000 vectors: ${fitMs.toFixed(0)} ms`);
