/**
 * `npx tsx bench/retention.ts [-- --rows 100000 --seconds 8]`: predict latency while the retention
 * sweeper deletes `rows` expired captures, against the same predicts without a sweep before and after
 * (A–B–A), on a fresh SQLite database in bench/out/ (or BENCH_DATABASE_URL). Also prints the sweep's
 * duration, its statements and the slowest DELETE; the `storage` query over those rows; and
 * deleteEndpoint of a second endpoint holding as many captures. Predicts go to the server over HTTP from this
 * process, two at a time, each a PNG with capture on (so every predict also writes a capture row while
 * the sweeper deletes). Progress goes to stderr, the table to stdout.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.ts';
import { CAPTURE_TABLE } from '../src/capture/record.ts';
import type { CaptureRecord } from '../src/capture/types.ts';
import { loadConfig } from '../src/config.ts';
import { insertValues } from '../src/db/insert.ts';
import { createLogger } from '../src/logger.ts';
import { RetentionStore } from '../src/retention/store.ts';
import { RetentionSweeper } from '../src/retention/sweeper.ts';
import type { SweptTable } from '../src/retention/types.ts';
import { machineFacts, percentile, progress, table } from './common.ts';

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '8' },
    'input-bytes': { type: 'string', default: '2048' },
  },
});
const ROWS = Number(options.rows);
const PHASE_MS = Number(options.seconds) * 1000;
const INPUT_BYTES = Number(options['input-bytes']);
const DAY = 86_400_000;

const file = path.resolve('bench/out/retention.db');
const databaseUrl = process.env.BENCH_DATABASE_URL ?? `file:${file}`;
if (databaseUrl === `file:${file}`) for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
fs.mkdirSync(path.dirname(file), { recursive: true });

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'production',
  DATABASE_URL: databaseUrl,
  PORT: '0',
  HOST: '127.0.0.1',
  SCHEDULER_INTERVAL_MS: '3600000',
  RETENTION_SWEEP_INTERVAL_MS: '86400000',
});
const app = await createApp(config, createLogger('warn', 'bench'));
const port = await app.listen();
const url = `http://127.0.0.1:${port}/graphql`;
const { prisma } = app.database;

/** the DELETE statements' times, around the store call */
const statementMs: number[] = [];
class TimedStore extends RetentionStore {
  override async deleteIds(t: SweptTable, ids: readonly string[]): Promise<number> {
    const started = performance.now();
    try {
      return await super.deleteIds(t, ids);
    } finally {
      statementMs.push(performance.now() - started);
    }
  }
}
const sweeper = new RetentionSweeper({
  store: new TimedStore(prisma),
  logger: createLogger('warn', 'bench'),
  intervalMs: 86_400_000,
  batchSize: config.retention.batchSize,
  pauseMs: config.retention.batchPauseMs,
});

async function graphql(query: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

await graphql(
  `mutation { createEndpoint(input: { name: "swept", dataCapture: { enabled: true, samplingPercentage: 100, retentionDays: 1 } }) { __typename } }`,
);
await graphql(`mutation { createEndpoint(input: { name: "doomed" }) { __typename } }`);
const now = Date.now();
for (const name of ['swept', 'doomed']) {
  progress(`seeding ${ROWS} expired captures of ${INPUT_BYTES} bytes for ${name}`);
  await seed((await prisma.endpoint.findUniqueOrThrow({ where: { name } })).id);
}

async function seed(endpointId: string): Promise<void> {
  for (let done = 0; done < ROWS; done += 5000) {
    const rows: CaptureRecord[] = Array.from({ length: Math.min(5000, ROWS - done) }, (_, i) => ({
      id: randomUUID(),
      endpointId,
      eventId: randomUUID(),
      inferenceTime: new Date(now - 2 * DAY - (done + i) * 1000),
      modelVersion: 'bench',
      inputData: new Uint8Array(INPUT_BYTES).fill(i & 255),
      inputContentType: 'image/png',
      output: '{"predictedClass":1}',
      predictedClass: 1,
      confidence: 0.9,
      top2Class: 2,
      top2Score: 0.05,
      top3Class: 3,
      top3Score: 0.02,
      features: null,
      imageStats: null,
      outlierScore: null,
    }));
    const t = CAPTURE_TABLE.rows(rows);
    await prisma.$transaction(insertValues(prisma, t.table, t.columns, t.values));
  }
}

/** the median of `runs` timings of `task`, ms */
async function medianMs(runs: number, task: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await task();
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

progress('storage query');
const storageMs = await medianMs(3, () =>
  graphql(`{ storage { ... on StorageReport { endpoints { captures { count bytes } tensors { count bytes } } } } }`),
);

const image = fs.readFileSync('models/gtsrb-resnet18/fixtures/stop_like_octagon.png').toString('base64');
const PREDICT = `mutation($image: String!) { predict(endpoint: "swept", image: { base64: $image }) { __typename } }`;

/** predicts two at a time until `until` says stop; their latencies in ms */
async function predicts(until: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  const worker = async () => {
    while (!until()) {
      const started = performance.now();
      const answer = (await graphql(PREDICT, { image })) as { data?: { predict?: { __typename: string } } };
      if (answer.data?.predict?.__typename !== 'Prediction') throw new Error(JSON.stringify(answer));
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all([worker(), worker()]);
  return latencies;
}

const timed = (ms: number) => {
  const end = Date.now() + ms;
  return () => Date.now() >= end;
};

progress('warm-up');
await predicts(timed(2000));
progress('A: predicts without a sweep');
const before = await predicts(timed(PHASE_MS));
progress('B: predicts during the sweep');
let sweepDone = false;
const sweepStarted = performance.now();
const sweep = sweeper.sweep().finally(() => {
  sweepDone = true;
});
const during = await predicts(() => sweepDone);
const report = await sweep;
const sweepMs = performance.now() - sweepStarted;
progress('A: predicts without a sweep, again');
const after = await predicts(timed(PHASE_MS));
progress('deleteEndpoint');
const deleteStarted = performance.now();
await graphql(`mutation { deleteEndpoint(name: "doomed") { __typename } }`);
const deleteMs = performance.now() - deleteStarted;

const row = (name: string, l: number[]) => [
  name,
  l.length,
  percentile(l, 50),
  percentile(l, 95),
  percentile(l, 99),
  Math.max(...l),
];
console.log(
  machineFacts({
    database: app.database.provider,
    sweep: `${report.deleted.Capture} captures in ${(sweepMs / 1000).toFixed(1)} s, ${report.statements} DELETEs of ≤ ${report.largestStatement} rows, batch pause ${config.retention.batchPauseMs} ms`,
    'DELETE ms': `p50 ${percentile(statementMs, 50).toFixed(1)}, p99 ${percentile(statementMs, 99).toFixed(1)}, max ${Math.max(...statementMs).toFixed(1)}`,
    storage: `${storageMs.toFixed(0)} ms over ${2 * ROWS} captures (median of 3)`,
    deleteEndpoint: `${deleteMs.toFixed(1)} ms with ${ROWS} captures (HTTP round trip)`,
  }),
);
console.log();
console.log(
  table([
    ['predict latency (ms)', 'n', 'p50', 'p95', 'p99', 'max'],
    row('before (no sweep)', before),
    row('during the sweep', during),
    row('after (no sweep)', after),
  ]),
);
await app.close();
