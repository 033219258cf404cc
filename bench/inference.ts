/**
 * `npm run bench:inference [-- --concurrency=1,8,32 --requests=480 --rounds=3 --format=png|npy --auth]`:
 * `predict` over HTTP at concurrency 1, 8 and 32, with capture off and at 100 %, from a load generator in
 * its own process, against raw onnxruntime `session.run` at the batch size the batcher formed, measured
 * right after in the same round. Rounds interleave the two so that both see the same machine load; the
 * table prints medians and the ratios. Goal (#4): concurrency 32 ≥ 85 % of raw; 100 % capture ≤ 10 %.
 * `--auth` configures API keys and sends an invoke key with every predict (its rate limit set out of
 * reach but still checked), to compare with an anonymous run: authentication's cost (#11).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import sharp from 'sharp';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { graphql, type VariablesOf } from '../src/graphql.ts';
import { encodeNpy } from '../src/inference/decode/npy.ts';
import { prepareImage, writeNormalised } from '../src/inference/preprocess.ts';
import { createLogger } from '../src/logger.ts';
import { ModelCatalog } from '../src/models/catalog.ts';
import { ModelRuntime } from '../src/models/runtime.ts';
import { graphqlClient, httpLoad, type LoadResult, machineFacts, median, progress, table } from './common.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const REQUESTS = Number(args.get('requests') ?? 480);
const FORMAT = args.get('format') ?? 'png';
const RAW_SECONDS = Number(args.get('raw-seconds') ?? 3);
const CONCURRENCY = (args.get('concurrency') ?? '1,8,32').split(',').map(Number);
const ROUNDS = Number(args.get('rounds') ?? 3);
const AUTH = args.has('auth');
const ADMIN_KEY = `vgl_bench_admin_${randomBytes(16).toString('hex')}`;
const INVOKE_KEY = `vgl_bench_invoke_${randomBytes(16).toString('hex')}`;
// rate limits out of reach of the load generator, but still checked on every request
const keys = AUTH
  ? { API_KEYS: `admin:${ADMIN_KEY},invoke:${INVOKE_KEY}`, RATE_LIMIT_INVOKE: '1000000/s' }
  : { RATE_LIMIT_ANONYMOUS: '1000000/s' };
const predictHeaders: Record<string, string> = AUTH ? { authorization: `Bearer ${INVOKE_KEY}` } : {};
const logger = createLogger('warn', 'bench');

const imageFile = path.resolve('models/gtsrb-resnet18/fixtures/warning_triangle.png');
const imageBytes = fs.readFileSync(imageFile);
const decodedPixels = await sharp(imageBytes)
  .removeAlpha()
  .raw()
  .toBuffer({ resolveWithObject: true })
  .then((r) => ({ width: r.info.width, height: r.info.height, rgb: r.data }));
if (FORMAT !== 'png' && FORMAT !== 'npy') throw new Error(`--format=${FORMAT}: expected png or npy`);

async function rawThroughput(runtime: ModelRuntime, batch: number): Promise<number> {
  const spec = {
    inputSize: runtime.entry.manifest.inputSize,
    mean: runtime.entry.manifest.mean,
    std: runtime.entry.manifest.std,
  };
  const prepared = await prepareImage(imageBytes, spec, { maxPixels: 1e8 });
  const per = 3 * spec.inputSize[0] * spec.inputSize[1];
  const images = new Float32Array(per * batch);
  for (let i = 0; i < batch; i++) writeNormalised(prepared.resized, spec, images, i * per);
  await runtime.runServing(images, batch); // warm-up
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < RAW_SECONDS * 1000) {
    await runtime.runServing(images, batch);
    done += batch;
  }
  return done / ((performance.now() - started) / 1000);
}

const PREDICT = graphql(`
  mutation Predict($endpoint: String!, $image: ImageInput!) {
    predict(endpoint: $endpoint, image: $image) {
      __typename
      ... on Prediction { predictedClass batchSize }
      ... on VigilError { message }
    }
  }
`);

/** a request body per input format: the PNG as base64, or its pixels as a NumPy .npy array (the write-up's client) */
function predictBody(endpoint: string, format: string): string {
  const image =
    format === 'npy' ? { npy: encodeNpy(decodedPixels).toString('base64') } : { base64: imageBytes.toString('base64') };
  const variables: VariablesOf<typeof PREDICT> = { endpoint, image };
  return JSON.stringify({ query: print(PREDICT), variables });
}

async function httpThroughput(
  url: string,
  endpoint: string,
  concurrency: number,
  requests: number,
): Promise<LoadResult & { batchMedian: number }> {
  const body = predictBody(endpoint, FORMAT);
  await httpLoad({
    url,
    bodies: [body],
    concurrency,
    requests: Math.min(64, requests),
    field: 'predict',
    headers: predictHeaders,
  }); // warm-up
  const result = await httpLoad({
    url,
    bodies: [body],
    concurrency,
    requests,
    field: 'predict',
    headers: predictHeaders,
  });
  const batches = result.answers.map((a) => {
    if (typeof a.batchSize !== 'number') throw new Error(`predict failed: ${JSON.stringify(a)}`);
    return a.batchSize;
  });
  return { ...result, batchMedian: median(batches) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
const config = {
  ...loadConfig({
    ...process.env,
    ...keys,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: `file:${dir}/bench.db`,
    PORT: '0',
    INFERENCE_DEVICE: 'cpu',
  }),
  host: '127.0.0.1',
};
const app = await createApp(config, logger);
const port = await app.listen();
const url = `http://127.0.0.1:${port}/graphql`;

const request = graphqlClient(url, AUTH ? { authorization: `Bearer ${ADMIN_KEY}` } : {});
const CREATE_ENDPOINT = graphql(`
  mutation CreateEndpoint($input: CreateEndpointInput!) {
    createEndpoint(input: $input) { __typename ... on VigilError { message } }
  }
`);
for (const input of [
  { name: 'capture-off' },
  { name: 'capture-100', dataCapture: { enabled: true, samplingPercentage: 100 } },
]) {
  const { createEndpoint } = await request(CREATE_ENDPOINT, { input });
  if (createEndpoint.__typename !== 'Endpoint') throw new Error(`createEndpoint: ${JSON.stringify(createEndpoint)}`);
}

// the baseline is onnxruntime as it comes (its threads spin between runs), not the server's tuning
const runtime = await ModelRuntime.load(new ModelCatalog(config.modelDir).get(config.defaultModel)!, 'cpu', logger, {
  spinWait: true,
});
const tuning = `${config.inferenceTuning.threads ?? 'default'} threads, spin-wait ${config.inferenceTuning.spinWait ? 'on' : 'off'}`;
console.log(
  machineFacts({
    provider: runtime.provider,
    'batch max': `${config.batch.maxSize} images / ${config.batch.maxWaitMs} ms`,
    server: `onnxruntime ${tuning}; client: a separate process (node:http keep-alive)`,
    input: `${path.basename(imageFile)} as ${FORMAT === 'npy' ? 'a uint8 .npy array' : 'base64 PNG'}, ${ROUNDS} rounds of ${REQUESTS} requests (medians)`,
    callers: AUTH ? 'an invoke API key on every request (Authorization: Bearer)' : 'anonymous (no key configured)',
  }),
);
console.log('');

interface Row {
  batch: number;
  throughput: number;
  p50: number;
  p99: number;
  raw: number;
  serverCpu: number;
  clientCpu: number;
}
const rows: (string | number)[][] = [
  [
    'run',
    'concurrency',
    'batch',
    'images/s',
    'p50 ms',
    'p99 ms',
    'server CPU ms/img',
    'client CPU ms/img',
    'vs raw',
    'vs capture off',
  ],
];
const mid = (rs: Row[], f: (r: Row) => number) => median(rs.map(f));
for (const concurrency of CONCURRENCY) {
  const results: Record<string, Row[]> = { 'capture-off': [], 'capture-100': [] };
  for (let round = 1; round <= ROUNDS; round++) {
    // each round measures raw at the batch size just formed, right after: both see the same machine load
    for (const endpoint of Object.keys(results)) {
      progress(
        `round ${round}/${ROUNDS}: predict over HTTP, ${endpoint}, concurrency ${concurrency}, ${REQUESTS} requests`,
      );
      const r = await httpThroughput(url, endpoint, concurrency, REQUESTS);
      const batch = Math.max(1, Math.round(r.batchMedian));
      progress(`round ${round}/${ROUNDS}: raw session.run at batch ${batch}`);
      const rawRate = await rawThroughput(runtime, batch);
      results[endpoint]!.push({
        batch: r.batchMedian,
        throughput: r.throughput,
        p50: r.p50,
        p99: r.p99,
        raw: rawRate,
        serverCpu: r.serverCpuPerRequest,
        clientCpu: r.clientCpuPerRequest,
      });
    }
  }
  const off = results['capture-off']!;
  for (const [endpoint, rs] of Object.entries(results)) {
    rows.push([
      `predict ${endpoint}`,
      concurrency,
      mid(rs, (r) => r.batch),
      mid(rs, (r) => r.throughput),
      mid(rs, (r) => r.p50),
      mid(rs, (r) => r.p99),
      mid(rs, (r) => r.serverCpu),
      mid(rs, (r) => r.clientCpu),
      median(rs.map((r) => r.throughput / r.raw)),
      median(rs.map((r, i) => r.throughput / off[i]!.throughput)),
    ]);
  }
  rows.push([
    `  raw session.run at that batch`,
    '–',
    mid(off, (r) => Math.round(r.batch)),
    mid(off, (r) => r.raw),
    NaN,
    NaN,
    NaN,
    NaN,
    1,
    NaN,
  ]);
}
console.log(table(rows));
console.log(
  "\n(vs raw: each round's predict throughput over raw onnxruntime at its batch size, measured right after; median over rounds)",
);
console.log(`captures written: ${await app.database.prisma.capture.count()}`);
await runtime.release();
await app.close();
fs.rmSync(dir, { recursive: true, force: true });
