/**
 * `npm run bench:monitor [-- --rows 1000000 --runs 3 --fresh]`: a monitoring execution over every
 * capture of an endpoint (counted in SQL) against the baseline of a plain loop that reads every
 * capture into Node and writes it as a SageMaker JSON Lines record, on the same data.
 *
 * Seeds `rows` captures spread over 24 h — GTSRB-like class mix, confidence mostly near 1, outputs
 * shaped as the capture writer stores them (43 probabilities) — with multi-row INSERTs in one
 * transaction, into bench/out/monitor.db (kept and reused when it already holds them; --fresh
 * re-seeds), or into BENCH_DATABASE_URL. Each timed execution is the first of a new schedule, so each
 * covers all the captures. Goal: ≤ 2 s for 1,000,000 captures on SQLite.
 * Progress goes to stderr, the table to stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.ts';
import { captureLine } from '../src/capture/export.ts';
import { toRecord } from '../src/capture/store.ts';
import { loadConfig } from '../src/config.ts';
import { Prisma } from '../src/db/prisma.ts';
import { createLogger } from '../src/logger.ts';

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    fresh: { type: 'boolean', default: false },
  },
});
const ROWS = Number(options.rows);
const RUNS = Number(options.runs);
const ENDPOINT = 'bench-monitor';
const MODEL = 'gtsrb-resnet18';
const CHUNK = 1000;

const progress = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const file = path.resolve('bench/out/monitor.db');
const databaseUrl = process.env.BENCH_DATABASE_URL ?? `file:${file}`;
if (options.fresh && databaseUrl === `file:${file}`)
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
fs.mkdirSync(path.dirname(file), { recursive: true });

// DEFAULT_MODEL=none: nothing is loaded; the endpoint's model only names the classes here
const config = {
  ...loadConfig({
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    PORT: '0',
    DEFAULT_MODEL: 'none',
    SCHEDULER_INTERVAL_MS: '3600000',
  }),
};
const app = await createApp(config, createLogger('warn', 'bench'));
const { prisma } = app.database;

/** a GTSRB-like class mix (the training set's class frequencies, roughly) */
const WEIGHTS = [
  2, 22, 22, 14, 20, 19, 4, 14, 14, 15, 20, 13, 21, 21, 8, 6, 4, 11, 12, 2, 4, 3, 4, 5, 3, 15, 6, 2, 5, 3, 4, 8, 2, 7,
  4, 12, 4, 2, 21, 3, 4, 2, 2,
];
const CUMULATIVE = WEIGHTS.map((_, i) => WEIGHTS.slice(0, i + 1).reduce((s, w) => s + w, 0));

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

async function seed(endpointId: string): Promise<void> {
  const next = random(42);
  const start = Date.now() - 86_400_000;
  const step = 86_400_000 / ROWS;
  const began = performance.now();
  await prisma.$transaction(
    async (tx) => {
      for (let offset = 0; offset < ROWS; offset += CHUNK) {
        const values: Prisma.Sql[] = [];
        for (let i = offset; i < Math.min(ROWS, offset + CHUNK); i++) {
          const pick = next() * CUMULATIVE.at(-1)!;
          const cls = CUMULATIVE.findIndex((c) => pick < c);
          const confidence = Math.min(0.9999999, 1 - next() ** 3 * 0.9);
          const rest = (1 - confidence) / 2;
          const probabilities = WEIGHTS.map((_, k) =>
            k === cls
              ? confidence
              : k === (cls + 1) % 43
                ? rest
                : k === (cls + 2) % 43
                  ? rest * 0.9
                  : (rest * 0.1) / 40,
          );
          const output = JSON.stringify({
            predictedClass: cls,
            label: `class ${cls}`,
            confidence,
            probabilities: probabilities.map((p) => Math.round(p * 1e7) / 1e7),
          });
          values.push(
            Prisma.sql`(${`b${i}`}, ${endpointId}, ${`be${i}`}, ${new Date(start + Math.floor(i * step))}, ${'bench'}, ${output}, ${cls}, ${confidence}, ${(cls + 1) % 43}, ${rest}, ${(cls + 2) % 43}, ${rest * 0.9})`,
          );
        }
        await tx.$executeRaw`INSERT INTO "Capture" ("id", "endpointId", "eventId", "inferenceTime", "modelVersion", "output", "predictedClass", "confidence", "top2Class", "top2Score", "top3Class", "top3Score") VALUES ${Prisma.join(values)}`;
        const done = Math.min(ROWS, offset + CHUNK);
        if (done % 100_000 === 0 || done === ROWS)
          progress(
            `seeded ${done.toLocaleString('en')} / ${ROWS.toLocaleString('en')} captures (${seconds(performance.now() - began)})`,
          );
      }
    },
    { timeout: 3_600_000, maxWait: 60_000 },
  );
}

const endpointId = `endpoint-${ENDPOINT}`;
const existing = await prisma.capture.count({ where: { endpointId } });
if (existing !== ROWS) {
  await prisma.endpoint.deleteMany({ where: { name: ENDPOINT } });
  await prisma.endpoint.create({ data: { id: endpointId, name: ENDPOINT, model: MODEL } });
  progress(`seeding ${ROWS.toLocaleString('en')} captures into ${app.database.provider}…`);
  await seed(endpointId);
} else {
  progress(`reusing the ${ROWS.toLocaleString('en')} captures already seeded (--fresh to re-seed)`);
}
await prisma.monitoringSchedule.deleteMany({ where: { endpointId } });

const { monitor } = app.services;
const executions: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const name = `bench-monitor-${run}`;
  await monitor.schedules.create({ name, endpoint: ENDPOINT, cron: '0 0 1 1 *' });
  const began = performance.now();
  const execution = await monitor.executions.runNow(name);
  const elapsed = performance.now() - began;
  if (execution.recordCount !== ROWS)
    throw new Error(`execution counted ${execution.recordCount} captures, expected ${ROWS}: ${execution.message}`);
  executions.push(elapsed);
  progress(`execution ${run + 1}/${RUNS}: ${seconds(elapsed)} (${execution.message})`);
}

// the baseline: bring every capture into Node and write it as a JSON Lines record, in time-ordered
// pages of about 5,000 (time ranges over the seeded 24 h, an index range scan each)
progress('reading every capture as JSON Lines…');
let lines = 0;
let bytes = 0;
const began = performance.now();
const span = await prisma.capture.aggregate({
  where: { endpointId },
  _min: { inferenceTime: true },
  _max: { inferenceTime: true },
});
const first = span._min.inferenceTime!.getTime();
const last = span._max.inferenceTime!.getTime();
const pageMs = Math.max(1, Math.ceil(((last - first + 1) * 5000) / ROWS));
for (let from = first; from <= last; from += pageMs) {
  const page = await prisma.capture.findMany({
    where: { endpointId, inferenceTime: { gte: new Date(from), lt: new Date(from + pageMs) } },
    orderBy: [{ inferenceTime: 'asc' }, { id: 'asc' }],
  });
  for (const row of page) {
    bytes += Buffer.byteLength(captureLine(toRecord(row))) + 1;
    if (++lines % 200_000 === 0)
      progress(`read ${lines.toLocaleString('en')} lines (${seconds(performance.now() - began)})`);
  }
}
const readAll = performance.now() - began;
if (lines !== ROWS) throw new Error(`the loop read ${lines} lines, expected ${ROWS}`);

const sorted = [...executions].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
const sqliteVersion =
  app.database.provider === 'sqlite'
    ? ((await prisma.$queryRaw<{ v: string }[]>`SELECT sqlite_version() AS v`)[0]?.v ?? '?')
    : null;
const size = app.database.provider === 'sqlite' ? `${(fs.statSync(file).size / 1e6).toFixed(0)} MB` : 'n/a';
console.log(
  `vigil bench:monitor — one monitoring execution over ${ROWS.toLocaleString('en')} captures vs reading them all as JSON Lines`,
);
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, Node ${process.version}, ` +
    `${app.database.provider}${sqliteVersion ? ` ${sqliteVersion}` : ''} (database ${size})`,
);
console.log('');
console.log('| what | runs | median | min | max | captures/s | vs execution |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
console.log(
  `| monitoring execution (SQL aggregation, checks, metrics) | ${RUNS} | ${seconds(median)} | ${seconds(sorted[0]!)} | ${seconds(sorted.at(-1)!)} | ${Math.round(ROWS / (median / 1000)).toLocaleString('en')} | 1.0× |`,
);
console.log(
  `| read every capture as JSONL (pages of 5,000, ${(bytes / 1e6).toFixed(0)} MB) | 1 | ${seconds(readAll)} | | | ${Math.round(ROWS / (readAll / 1000)).toLocaleString('en')} | ${(readAll / median).toFixed(1)}× |`,
);
console.log('');
const goalApplies = ROWS >= 1_000_000 && app.database.provider === 'sqlite';
console.log(
  `goal: execution ≤ 2 s over 1,000,000 captures on SQLite — ${goalApplies ? (median <= 2000 ? 'met' : 'NOT met') : 'not measured by this run'} (median ${seconds(median)})`,
);
await app.close();
