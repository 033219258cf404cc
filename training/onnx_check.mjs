// Runs the exported graphs with onnxruntime-node (the server's runtime) for training/export.py:
//   node training/onnx_check.mjs <model dir> <work dir> <batch> [bench iterations]
// Reads <work dir>/image.bin ([batch,3,128,128] float32 LE) and seed.bin ([batch,43]), writes every debug output as
// <work dir>/<name>.bin plus result.json (dims, serving-vs-debug logits, timings with 1 intra-op thread).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
const ort = require('onnxruntime-node');
const [modelDir, workDir, batchArg, itersArg] = process.argv.slice(2);
const batch = Number(batchArg);
const iters = Number(itersArg ?? 5);
const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8'));
const [H, W] = manifest.inputSize;
const C = manifest.classCount;
const options = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

function f32(file) {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const t0 = performance.now();
const serving = await ort.InferenceSession.create(join(modelDir, manifest.serving.file), options);
const t1 = performance.now();
const debug = await ort.InferenceSession.create(join(modelDir, manifest.debug.file), options);
const t2 = performance.now();
if (JSON.stringify(debug.outputNames) !== JSON.stringify(manifest.debug.outputNames)) {
  throw new Error(`debug outputs ${debug.outputNames} differ from the manifest`);
}

const image = new ort.Tensor('float32', f32(join(workDir, 'image.bin')), [batch, 3, H, W]);
const seed = new ort.Tensor('float32', f32(join(workDir, 'seed.bin')), [batch, C]);
const out = await debug.run({ image, grad_seed: seed });
const outputs = {};
for (const name of debug.outputNames) {
  const t = out[name];
  const file = `${name}.bin`;
  writeFileSync(join(workDir, file), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  outputs[name] = { file, dims: t.dims };
}
const servingLogits = (await serving.run({ image })).logits.data;
let servingVsDebug = 0;
for (let i = 0; i < servingLogits.length; i++) {
  servingVsDebug = Math.max(servingVsDebug, Math.abs(servingLogits[i] - out.logits.data[i]));
}

async function bench(session, feeds) {
  await session.run(feeds); // warm-up
  const times = [];
  for (let i = 0; i < iters; i++) {
    const s = performance.now();
    await session.run(feeds);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)] * 10) / 10;
}

const timings = {
  'session create ms (serving, debug)': [Math.round(t1 - t0), Math.round(t2 - t1)],
};
for (const n of iters > 0 ? [1, 8] : []) {
  const img = new ort.Tensor(
    'float32',
    new Float32Array(n * 3 * H * W).map((_, i) => Math.sin(i * 0.001)),
    [n, 3, H, W],
  );
  const zero = new ort.Tensor('float32', new Float32Array(n * C), [n, C]);
  const s = await bench(serving, { image: img });
  const d = await bench(debug, { image: img, grad_seed: zero });
  timings[`batch ${n} median ms (serving, debug, ratio)`] = [s, d, Math.round((d / s) * 100) / 100];
}
writeFileSync(
  join(workDir, 'result.json'),
  JSON.stringify({
    ortVersion: ort.env.versions?.common ?? 'unknown',
    outputs,
    servingVsDebugLogitsMaxAbs: servingVsDebug,
    timings,
  }),
);
