/**
 * `npm run bench:debug-graph -- --baseline <model dir> [--model models/gtsrb-resnet18] [--rounds 7] [--iters 5]`:
 * the debug graph alone, against another export of it, in the same process and interleaved rounds.
 *
 * training/export.py writes the debug graph's backward by hand (ReLU masks, max-pool backward, transposed
 * convolutions). This times `session.run` of both graphs on the same fixture images at batch 1 and 8, with
 * the serving graph as each round's yardstick, and prints each graph's cost over serving and the new graph's
 * time over the baseline's (medians over rounds). Both graphs must have the same inputs and outputs; the
 * outputs are compared too (max relative difference of every output), so a faster graph that computes
 * something else shows up here. Progress goes to stderr, the table to stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { prepareImage, writeNormalised } from '../src/inference/preprocess.ts';
import { machineFacts, median, progress, table } from './common.ts';

const { values: options } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/gtsrb-resnet18' },
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '7' },
    iters: { type: 'string', default: '5', description: 'runs per graph, batch size and round' },
    threads: { type: 'string', default: '1', description: 'intra-op threads of every session' },
    images: { type: 'string', default: 'models/gtsrb-resnet18/fixtures', description: 'a folder of images to run on' },
  },
});
if (!options.baseline) {
  process.stderr.write(
    '--baseline <model dir> is required: the export to compare with (e.g. a checkout of an older commit)\n',
  );
  process.exit(2);
}
const ROUNDS = Number(options.rounds);
const ITERS = Number(options.iters);
const THREADS = Number(options.threads);
const BATCHES = [1, 8];

interface Manifest {
  inputSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  classCount: number;
  serving: { file: string; input: string };
  debug: { file: string; outputNames: string[] };
}
const manifestOf = (dir: string): Manifest => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const sessionOf = (file: string) =>
  ort.InferenceSession.create(file, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: THREADS,
    executionProviders: ['cpu'],
  });

const modelDir = path.resolve(options.model);
const baselineDir = path.resolve(options.baseline);
const manifest = manifestOf(modelDir);
const baselineManifest = manifestOf(baselineDir);
if (manifest.debug.outputNames.join() !== baselineManifest.debug.outputNames.join())
  throw new Error('the two debug graphs have different outputs');

const [h, w] = manifest.inputSize;
const fixtureDir = path.resolve(options.images);
const fixtures = fs.readdirSync(fixtureDir).filter((f) => /\.(png|jpg|ppm|webp)$/.test(f));
const spec = { inputSize: manifest.inputSize, mean: manifest.mean, std: manifest.std };
const images = await Promise.all(
  fixtures.map((f) => prepareImage(fs.readFileSync(path.join(fixtureDir, f)), spec, { maxPixels: 25_000_000 })),
);

function inputs(batch: number) {
  const pixels = new Float32Array(batch * 3 * h * w);
  for (let i = 0; i < batch; i++) writeNormalised(images[i % images.length]!.resized, spec, pixels, i * 3 * h * w);
  return {
    image: new ort.Tensor('float32', pixels, [batch, 3, h, w]),
    seed: new ort.Tensor('float32', new Float32Array(batch * manifest.classCount), [batch, manifest.classCount]),
  };
}

progress('creating sessions …');
const graphs = {
  serving: await sessionOf(path.join(modelDir, manifest.serving.file)),
  debug: await sessionOf(path.join(modelDir, manifest.debug.file)),
  baselineDebug: await sessionOf(path.join(baselineDir, baselineManifest.debug.file)),
};
type GraphName = keyof typeof graphs;

async function run(name: GraphName, batch: number) {
  const { image, seed } = inputs(batch);
  const feeds: Record<string, ort.Tensor> = name === 'serving' ? { image } : { image, grad_seed: seed };
  return graphs[name].run(feeds);
}

/** worst relative difference over every debug output (meaningful when both exports hold the same model) */
async function outputAgreement(): Promise<number> {
  const [a, b] = [await run('debug', 2), await run('baselineDebug', 2)];
  let worst = 0;
  for (const name of manifest.debug.outputNames) {
    const x = a[name]!.data as Float32Array;
    const y = b[name]!.data as Float32Array;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
      scale = Math.max(scale, Math.abs(y[i]!));
    }
    worst = Math.max(worst, scale ? diff / scale : diff);
  }
  return worst;
}

async function timed(name: GraphName, batch: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ITERS; i++) {
    const start = performance.now();
    await run(name, batch);
    times.push(performance.now() - start);
  }
  return median(times);
}

for (const name of Object.keys(graphs) as GraphName[]) for (const batch of BATCHES) await run(name, batch); // warm-up
const results = new Map<string, number[]>();
const record = (key: string, value: number) => results.set(key, [...(results.get(key) ?? []), value]);
for (let round = 1; round <= ROUNDS; round++) {
  progress(`round ${round}/${ROUNDS}`);
  for (const batch of BATCHES) {
    // the order rotates each round, so no graph always runs right after another
    const order = (['serving', 'debug', 'baselineDebug'] as GraphName[]).map(
      (_, i, all) => all[(i + round) % all.length]!,
    );
    const ms: Partial<Record<GraphName, number>> = {};
    for (const name of order) ms[name] = await timed(name, batch);
    record(`${batch}:serving`, ms.serving!);
    record(`${batch}:debug`, ms.debug!);
    record(`${batch}:baselineDebug`, ms.baselineDebug!);
    record(`${batch}:debugOverServing`, ms.debug! / ms.serving!);
    record(`${batch}:baselineOverServing`, ms.baselineDebug! / ms.serving!);
    record(`${batch}:newOverBaseline`, ms.debug! / ms.baselineDebug!);
  }
}

const m = (key: string) => median(results.get(key)!);
console.log(machineFacts({ threads: String(THREADS), rounds: `${ROUNDS} × ${ITERS} runs` }));
console.log(`model      ${path.relative(process.cwd(), modelDir)}\nbaseline   ${baselineDir}\n`);
console.log(
  table([
    [
      'batch',
      'serving ms',
      'debug ms',
      'baseline debug ms',
      'debug / serving',
      'baseline / serving',
      'debug / baseline',
    ],
    ...BATCHES.map((b) => [
      String(b),
      m(`${b}:serving`),
      m(`${b}:debug`),
      m(`${b}:baselineDebug`),
      m(`${b}:debugOverServing`),
      m(`${b}:baselineOverServing`),
      m(`${b}:newOverBaseline`),
    ]),
  ]),
);
const sameWeights = fs
  .readFileSync(path.join(modelDir, 'weights.bin'))
  .equals(fs.readFileSync(path.join(baselineDir, 'weights.bin')));
console.log(
  `\noutputs on 2 fixture images: worst relative difference over every debug output ${(await outputAgreement()).toExponential(2)} ` +
    `(weights.bin ${sameWeights ? 'identical' : 'differs: a difference is expected unless both hold one model'})`,
);
await Promise.all(Object.values(graphs).map((s) => s.release()));
