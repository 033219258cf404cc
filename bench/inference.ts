/**
 * `npm run bench:inference`: raw onnxruntime `session.run` throughput at the batch sizes the batcher
 * forms, against `predict` over HTTP at concurrency 1, 8 and 32, with capture off and at 100 %.
 * Both are measured in the same run on the same machine; the table prints the ratios.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { ModelCatalog } from '../src/models/catalog.ts';
import { ModelRuntime } from '../src/models/runtime.ts';
import { prepareImage, writeNormalised } from '../src/inference/preprocess.ts';
import { machineFacts, median, percentile, progress, table } from './common.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const REQUESTS = Number(args.get('requests') ?? 240);
const RAW_SECONDS = Number(args.get('raw-seconds') ?? 3);
const CONCURRENCY = (args.get('concurrency') ?? '1,8,32').split(',').map(Number);
const logger = createLogger('warn', 'bench');

const imageFile = path.resolve('models/gtsrb-resnet18/fixtures/warning_triangle.png');
const imageBytes = fs.readFileSync(imageFile);

async function rawThroughput(runtime: ModelRuntime, batch: number): Promise<number> {
  const spec = { inputSize: runtime.entry.manifest.inputSize, mean: runtime.entry.manifest.mean, std: runtime.entry.manifest.std };
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

interface HttpResult {
  throughput: number;
  p50: number;
  p99: number;
  batchMedian: number;
}

async function httpThroughput(url: string, endpoint: string, concurrency: number, requests: number): Promise<HttpResult> {
  const body = JSON.stringify({
    query: `mutation($b: String!) { predict(endpoint: "${endpoint}", image: { base64: $b }) { ... on Prediction { predictedClass batchSize } ... on VigilError { message } } }`,
    variables: { b: imageBytes.toString('base64') },
  });
  const latencies: number[] = [];
  const batches: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      next++;
      const t0 = performance.now();
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = (await response.json()) as { data?: { predict: { batchSize?: number; message?: string } } };
      const predict = json.data?.predict;
      if (!predict?.batchSize) throw new Error(`predict failed: ${JSON.stringify(json)}`);
      latencies.push(performance.now() - t0);
      batches.push(predict.batchSize);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, 4) }, worker)); // warm-up round
  latencies.length = 0;
  batches.length = 0;
  next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { throughput: latencies.length / seconds, p50: median(latencies), p99: percentile(latencies, 99), batchMedian: median(batches) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
const config = { ...loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: `file:${dir}/bench.db`, PORT: '0', INFERENCE_DEVICE: 'cpu' }), host: '127.0.0.1' };
const app = await createApp(config, logger);
const port = await app.listen();
const url = `http://127.0.0.1:${port}/graphql`;
const gql = (query: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
await gql(`mutation { createEndpoint(input: { name: "capture-off" }) { __typename } }`);
await gql(`mutation { createEndpoint(input: { name: "capture-100", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }`);

const runtime = await ModelRuntime.load(new ModelCatalog(config.modelDir).get(config.defaultModel)!, 'cpu', logger);
console.log(machineFacts({ provider: runtime.provider, 'batch max': `${config.batch.maxSize} images / ${config.batch.maxWaitMs} ms` }));
console.log('');

const rows: (string | number)[][] = [['run', 'concurrency', 'batch (median)', 'images/s', 'p50 ms', 'p99 ms', 'vs raw', 'vs capture off']];
const rawCache = new Map<number, number>();
const raw = async (batch: number) => {
  if (!rawCache.has(batch)) {
    progress(`raw session.run at batch ${batch}`);
    rawCache.set(batch, await rawThroughput(runtime, batch));
  }
  return rawCache.get(batch)!;
};
for (const concurrency of CONCURRENCY) {
  const results: Record<string, HttpResult> = {};
  for (const endpoint of ['capture-off', 'capture-100']) {
    progress(`predict over HTTP, ${endpoint}, concurrency ${concurrency}, ${REQUESTS} requests`);
    results[endpoint] = await httpThroughput(url, endpoint, concurrency, REQUESTS);
  }
  const batch = Math.max(1, Math.round(results['capture-off']!.batchMedian));
  const rawRate = await raw(batch);
  rows.push([`raw session.run`, '–', batch, rawRate, 1000 * batch / rawRate, NaN, 1, NaN]);
  for (const [endpoint, r] of Object.entries(results)) {
    rows.push([`predict ${endpoint}`, concurrency, r.batchMedian, r.throughput, r.p50, r.p99, r.throughput / rawRate, r.throughput / results['capture-off']!.throughput]);
  }
}
console.log(table(rows));
const stored = await app.database.prisma.capture.count();
console.log(`\ncaptures written: ${stored}`);
await runtime.release();
await app.close();
fs.rmSync(dir, { recursive: true, force: true });
