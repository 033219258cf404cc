/**
 * `npm run bench:debugger [-- --requests 200 --concurrency 8 --rounds 3 --saliency 60]`: what the debugger hook
 * costs and what saliency on demand takes, on a real server (createApp on a temp SQLite database, HTTP).
 *
 * 1. predict throughput and p50/p99 latency over HTTP at a fixed concurrency, from a load generator in its
 *    own process, for the hook off, on with the `fullgrad` collection, and on with `all` (every debug
 *    output), in interleaved rounds, with each round's ratios against its own hook-off run (medians);
 * 2. bytes stored per step (Σ LENGTH(Tensor.data) per step, from the database);
 * 3. a saliency PNG from stored tensors: p50/p99 from the service function (no cache: read, decode,
 *    compute, render) and over HTTP (each step's first request, then cached repeats);
 * 4. the tensor encodings compared on the fixture images (server preprocessing): bytes per step for the
 *    fullgrad tensors and the FULLGRAD map's max relative difference against unencoded float32.
 *
 * Goals: hook-on ≤ 4× hook-off per image; saliency PNG ≤ 30 ms p50; ≤ 1 MB stored per step for fullgrad.
 * Progress goes to stderr, the tables to stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { print } from 'graphql';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { decodeTensor, encodeTensor, type TensorEncoding } from '../src/debugger/encoding.ts';
import { encodingOf } from '../src/debugger/hook.ts';
import { DEFAULT_RENDER } from '../src/debugger/saliency.ts';
import { tensorCatalog } from '../src/debugger/tensor-names.ts';
import { saliencyMap } from '../src/explain/fullgrad.ts';
import { graphql, type VariablesOf } from '../src/graphql.ts';
import { prepareImage, writeNormalised } from '../src/inference/preprocess.ts';
import { createLogger } from '../src/logger.ts';
import { graphqlClient, httpLoad } from './common.ts';

const { values: options } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    saliency: { type: 'string', default: '60', description: 'steps rendered for the saliency timings' },
    rounds: { type: 'string', default: '3', description: 'interleaved rounds of the three configurations' },
  },
});
const REQUESTS = Number(options.requests);
const CONCURRENCY = Number(options.concurrency);
const ROUNDS = Number(options.rounds);
const SALIENCY_STEPS = Number(options.saliency);
const FIXTURE_DIR = path.resolve('models/gtsrb-resnet18/fixtures');
const IMAGES = [
  'stop_like_octagon.png',
  'warning_triangle.png',
  'blue_arrow_circle.jpg',
  'speed_ring.ppm',
  'yield_like_97x61.webp',
].map((f) => fs.readFileSync(path.join(FIXTURE_DIR, f)).toString('base64'));

const progress = (line: string) => process.stderr.write(`${line}\n`);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (v: number) => `${v.toFixed(1)} ms`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
const config = {
  ...loadConfig({
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    DATABASE_URL: `file:${path.join(dir, 'bench.db')}`,
    PORT: '0',
  }),
  host: '127.0.0.1',
};
const app = await createApp(config, createLogger('error', 'bench'));
const port = await app.listen();
const base = `http://127.0.0.1:${port}`;

const request = graphqlClient(`${base}/graphql`);

const PREDICT = graphql(`
  mutation Predict($endpoint: String!, $image: ImageInput!) {
    predict(endpoint: $endpoint, image: $image) {
      __typename
      ... on Prediction { debugStep }
      ... on VigilError { message }
    }
  }
`);
const CREATE_ENDPOINT = graphql(`
  mutation CreateEndpoint($input: CreateEndpointInput!) {
    createEndpoint(input: $input) { __typename ... on VigilError { message } }
  }
`);

interface RunResult {
  name: string;
  throughput: number;
  p50: number;
  p99: number;
  /** server process CPU time (all threads: onnxruntime, encoder, libuv, main) per image, ms */
  cpuPerImage: number;
  /** medians over rounds of this round's hook-off figure over this configuration's (wall, CPU, p50) */
  vsOff?: { wall: number; cpu: number; p50: number };
}

/** process CPU time (user + system, every thread), ms */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** one configuration's requests, sent by the load generator in its own process (bench/common.ts) */
async function load(endpoint: string, requests: number, label: string): Promise<RunResult> {
  // the load generator sends prepared bodies: the document printed once, the variables per image
  const query = print(PREDICT);
  const bodies = IMAGES.map((base64) => {
    const variables: VariablesOf<typeof PREDICT> = { endpoint, image: { base64 } };
    return JSON.stringify({ query, variables });
  });
  const r = await httpLoad({ url: `${base}/graphql`, bodies, concurrency: CONCURRENCY, requests, field: 'predict' });
  const failed = r.answers.find((a) => a.__typename !== 'Prediction');
  if (failed) throw new Error(`predict failed: ${JSON.stringify(failed)}`);
  return { name: label, throughput: r.throughput, p50: r.p50, p99: r.p99, cpuPerImage: r.serverCpuPerRequest };
}

const configs = [
  { name: 'off', label: 'hook off', debugHook: { enabled: false } },
  {
    name: 'fullgrad',
    label: 'hook on, fullgrad',
    debugHook: { enabled: true, collections: ['fullgrad'], saveInterval: 1 },
  },
  { name: 'all', label: 'hook on, all', debugHook: { enabled: true, collections: ['all'], saveInterval: 1 } },
];
for (const c of configs) {
  const { createEndpoint } = await request(CREATE_ENDPOINT, {
    input: { name: c.name, dataCapture: { enabled: true, samplingPercentage: 100 }, debugHook: c.debugHook },
  });
  if (createEndpoint.__typename !== 'Endpoint') throw new Error(`createEndpoint: ${JSON.stringify(createEndpoint)}`);
}

progress(
  `predict: ${ROUNDS} rounds of ${REQUESTS} requests per configuration at concurrency ${CONCURRENCY}, ${os.cpus().length} CPUs (load average ${os.loadavg()[0]!.toFixed(1)})`,
);
// warm both graphs (session creation, JIT) outside the measurements
await load('off', 16, 'warm-up serving');
await load('fullgrad', 16, 'warm-up debug');
// rounds interleave the configurations, so that each ratio compares runs under the same machine load
const rounds: RunResult[][] = configs.map(() => []);
for (let round = 1; round <= ROUNDS; round++) {
  for (const [i, c] of configs.entries()) {
    progress(`round ${round}/${ROUNDS}: ${c.label}…`);
    rounds[i]!.push(await load(c.name, REQUESTS, c.label));
  }
}
const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const runs: RunResult[] = rounds.map((rs) => ({
  name: rs[0]!.name,
  throughput: middle(rs.map((r) => r.throughput)),
  p50: middle(rs.map((r) => r.p50)),
  p99: middle(rs.map((r) => r.p99)),
  cpuPerImage: middle(rs.map((r) => r.cpuPerImage)),
  vsOff: {
    wall: middle(rs.map((r, k) => rounds[0]![k]!.throughput / r.throughput)),
    cpu: middle(rs.map((r, k) => r.cpuPerImage / rounds[0]![k]!.cpuPerImage)),
    p50: middle(rs.map((r, k) => r.p50 / rounds[0]![k]!.p50)),
  },
}));

// bytes per step, from the database
const prisma = app.database.prisma;
async function stepBytes(
  endpoint: string,
): Promise<{ steps: number; mean: number; min: number; max: number; tensors: number }> {
  const rows = await prisma.$queryRaw<{ bytes: number | bigint; tensors: number | bigint }[]>`
    SELECT SUM(LENGTH(t."data")) AS "bytes", COUNT(*) AS "tensors" FROM "Tensor" t JOIN "DebugStep" s ON s."id" = t."stepId"
    JOIN "Endpoint" e ON e."id" = s."endpointId" WHERE e."name" = ${endpoint} GROUP BY t."stepId"`;
  const bytes = rows.map((r) => Number(r.bytes));
  return {
    steps: rows.length,
    mean: bytes.reduce((a, b) => a + b, 0) / bytes.length,
    min: Math.min(...bytes),
    max: Math.max(...bytes),
    tensors: Number(rows[0]?.tensors ?? 0),
  };
}
const stored = { fullgrad: await stepBytes('fullgrad'), all: await stepBytes('all') };

// saliency from stored tensors
progress(`saliency: ${SALIENCY_STEPS} steps of the fullgrad endpoint…`);
const { trials, saliency } = app.services;
const trial = await trials.trial('fullgrad');
const steps = (await trials.steps(trial)).slice(-SALIENCY_STEPS);
const refs = await Promise.all(steps.map((s) => trials.step(trial, s)));
for (const ref of refs.slice(0, 3)) await saliency.png(ref, 'FULLGRAD', 'overlay', DEFAULT_RENDER, { cache: false }); // warm-up
const service = { png: [] as number[], map: [] as number[], residuals: [] as number[], cpu: 0 };
const serviceCpu0 = cpuMs();
for (const ref of refs) {
  const t0 = performance.now();
  const map = await saliency.compute(ref, 'FULLGRAD', { cache: false });
  const t1 = performance.now();
  await saliency.render(map, 'overlay', DEFAULT_RENDER);
  service.map.push(t1 - t0);
  service.png.push(performance.now() - t0);
  service.residuals.push(map.completeness!.residual);
}
service.cpu = (cpuMs() - serviceCpu0) / refs.length;
saliency.maps.clear();
saliency.pngs.clear();
const http = { cold: [] as number[], cached: [] as number[] };
for (const [i, step] of steps.entries()) {
  for (const list of [http.cold, http.cached]) {
    const t0 = performance.now();
    const response = await fetch(`${base}/steps/fullgrad/${step}/overlay.png`);
    const png = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200 || png.length < 100) throw new Error(`GET overlay of step ${step}: ${response.status}`);
    list.push(performance.now() - t0);
  }
  if ((i + 1) % 20 === 0) progress(`  HTTP ${i + 1}/${steps.length}`);
}
for (const list of [service.png, service.map, http.cold, http.cached]) list.sort((a, b) => a - b);

// encodings on the fixture images: bytes and the FULLGRAD map's error against float32
progress('encodings…');
const runtime = await app.services.runtimes.get('gtsrb-resnet18');
const manifest = runtime.entry.manifest;
const catalog = tensorCatalog(manifest);
// the images only: the folder also holds fixtures.json and a README
const fixtureFiles = fs.readdirSync(FIXTURE_DIR).filter((f) => /\.(png|jpe?g|webp|ppm)$/.test(f));
const encodings: (TensorEncoding | 'f16-deflate (input f16)')[] = [
  'f16-deflate (input f16)',
  'f16-deflate',
  'f16-sparse-deflate',
  'f16-sparse-split',
  'f32-deflate',
];
const encodingStats = new Map(encodings.map((e) => [e, { bytes: 0, maxError: 0, encodeMs: 0, decodeMs: 0 }]));
for (const file of fixtureFiles) {
  const prepared = await prepareImage(
    fs.readFileSync(path.join(FIXTURE_DIR, file)),
    { inputSize: manifest.inputSize, mean: manifest.mean, std: manifest.std },
    { maxPixels: 1e8 },
  );
  const input = new Float32Array(3 * manifest.inputSize[0] * manifest.inputSize[1]);
  writeNormalised(prepared.resized, manifest, input);
  const run = await runtime.runDebug(input, 1, ['input_grad', ...catalog.sites.map((s) => s.outputGrad)]);
  const tensors: [string, 'input' | 'output', Float32Array][] = [
    ['input', 'input', input],
    ['input_grad', 'output', run.outputs.get('input_grad')!.data],
    ...catalog.sites.map(
      (s) =>
        [`${s.name}.output_grad`, 'output', run.outputs.get(s.outputGrad)!.data] as [string, 'output', Float32Array],
    ),
  ];
  const mapOf = (decoded: Map<string, Float32Array>) =>
    saliencyMap('FULLGRAD', {
      input: decoded.get('input')!,
      inputGrad: decoded.get('input_grad')!,
      inputShape: [3, manifest.inputSize[0], manifest.inputSize[1]],
      sites: catalog.sites.map((s) => ({
        name: s.name,
        shape: s.shape,
        grad: decoded.get(`${s.name}.output_grad`)!,
        bias: s.bias,
      })),
    }).values;
  const exact = mapOf(new Map(tensors.map(([n, , v]) => [n, v])));
  let exactMax = 0;
  for (const v of exact) exactMax = Math.max(exactMax, Math.abs(v));
  for (const choice of encodings) {
    const stats = encodingStats.get(choice)!;
    const lossy = (choice === 'f16-deflate (input f16)' ? 'f16-deflate' : choice) as TensorEncoding;
    const decoded = new Map<string, Float32Array>();
    // the biases (20 × C floats, f32) and logits (43 floats, f32) are the same for every choice
    let bytes =
      catalog.sites.reduce((sum, s) => sum + 4 * s.bias.length, 0) +
      4 * ((manifest.fcBias as number[]).length + manifest.classCount);
    for (const [name, kind, values] of tensors) {
      const encoding = choice === 'f16-deflate (input f16)' ? 'f16-deflate' : encodingOf(name, kind, lossy);
      const t0 = performance.now();
      const data = encodeTensor(values, encoding);
      const t1 = performance.now();
      decoded.set(name, decodeTensor(data, encoding, values.length));
      stats.encodeMs += t1 - t0;
      stats.decodeMs += performance.now() - t1;
      bytes += data.byteLength;
    }
    stats.bytes += bytes;
    const map = mapOf(decoded);
    let diff = 0;
    for (let i = 0; i < map.length; i++) diff = Math.max(diff, Math.abs(map[i]! - exact[i]!));
    stats.maxError = Math.max(stats.maxError, diff / exactMax);
  }
}

await app.close();
fs.rmSync(dir, { recursive: true, force: true });

// report
const line = (cells: string[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
const w1 = [22, 10, 10, 11, 11, 12, 11, 12, 11];
console.log(
  `\npredict over HTTP: ${ROUNDS} rounds of ${REQUESTS} requests per configuration (medians), concurrency ${CONCURRENCY}, client in its own process (${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''}; ` +
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end)`,
);
console.log(
  line(
    ['configuration', 'images/s', 'ms/image', 'p50', 'p99', 'CPU/image', 'wall vs off', 'CPU vs off', 'p50 vs off'],
    w1,
  ),
);
for (const r of runs) {
  console.log(
    line(
      [
        r.name,
        r.throughput.toFixed(1),
        (1000 / r.throughput).toFixed(1),
        ms(r.p50),
        ms(r.p99),
        ms(r.cpuPerImage),
        `${r.vsOff!.wall.toFixed(2)}×`,
        `${r.vsOff!.cpu.toFixed(2)}×`,
        `${r.vsOff!.p50.toFixed(2)}×`,
      ],
      w1,
    ),
  );
}
console.log(
  '  (ms/image = wall time / images at that concurrency; CPU/image = the server process\'s CPU time, all threads, / images; "vs off": median over rounds of each round\'s ratio)',
);
const mb = (b: number) => `${(b / 1e6).toFixed(3)} MB`;
console.log('\nstored per step (Σ LENGTH(Tensor.data), from the database)');
for (const [name, s] of Object.entries(stored)) {
  console.log(
    `  ${name.padEnd(9)} ${s.steps} steps, ${s.tensors} tensors/step: mean ${mb(s.mean)}, min ${mb(s.min)}, max ${mb(s.max)}`,
  );
}
console.log(
  `\nsaliency PNG (FULLGRAD overlay ${DEFAULT_RENDER.size}×${DEFAULT_RENDER.size}, ${DEFAULT_RENDER.colormap}) from stored tensors, ${refs.length} steps`,
);
console.log(
  `  service, uncached (read + decode + map + PNG): p50 ${ms(quantile(service.png, 0.5))}, p99 ${ms(quantile(service.png, 0.99))}, CPU ${ms(service.cpu)} per PNG`,
);
console.log(
  `    of which read + decode + map:                 p50 ${ms(quantile(service.map, 0.5))}, p99 ${ms(quantile(service.map, 0.99))}`,
);
console.log(
  `  HTTP GET /steps/…/overlay.png, first request:    p50 ${ms(quantile(http.cold, 0.5))}, p99 ${ms(quantile(http.cold, 0.99))}`,
);
console.log(
  `  HTTP, repeated (cached PNG):                     p50 ${ms(quantile(http.cached, 0.5))}, p99 ${ms(quantile(http.cached, 0.99))}`,
);
console.log(`  completeness residual over those steps: max ${Math.max(...service.residuals).toExponential(2)}`);
console.log(
  `\nencodings on the ${fixtureFiles.length} fixture images (fullgrad tensors + logits, server preprocessing)`,
);
const w2 = [26, 14, 22, 12, 12];
console.log(line(['encoding (activations)', 'bytes/step', 'FULLGRAD max rel. err', 'encode', 'decode'], w2));
for (const [name, s] of encodingStats) {
  const n = fixtureFiles.length;
  console.log(line([name, mb(s.bytes / n), s.maxError.toExponential(2), ms(s.encodeMs / n), ms(s.decodeMs / n)], w2));
}
console.log('  (input f32-deflate and biases/logits f32 in every row but the first, which is the previous default)');
const fullgradRun = runs[1]!;
console.log(
  `\ngoals: hook-on (fullgrad) ${fullgradRun.vsOff!.wall.toFixed(2)}× hook-off per image in wall time, ` +
    `${fullgradRun.vsOff!.cpu.toFixed(2)}× in CPU time (≤ 4×); ` +
    `saliency PNG p50 ${ms(quantile(service.png, 0.5))} service / ${ms(quantile(http.cold, 0.5))} HTTP, ${ms(service.cpu)} CPU (≤ 30 ms); ` +
    `fullgrad ${mb(stored.fullgrad.mean)} per step (≤ 1 MB)`,
);
