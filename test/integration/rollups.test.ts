/**
 * Rollups equal raw aggregation. Random captures at random times — written by the capture writer's own
 * rows (captureTableRows) through two group commits at once, as two replicas would — and random labels,
 * relabels and repeated labels through the ground-truth service (some calls at once, on the same
 * captures); then random windows, thresholds and label cut-offs counted from the rollups (whole
 * buckets, raw edges) and from the captures and labels alone: the same counts, histograms and
 * confusion cells, to the last capture. The rollups the writers kept also equal those rebuilt from the
 * rows in SQL (what the migration's backfill does).
 */
import { describe, expect, it } from 'vitest';
import { CAPTURE_TABLES, captureTableRows } from '../../src/capture/record.ts';
import type { CaptureRecord } from '../../src/capture/types.ts';
import { GroupCommit } from '../../src/db/group-commit.ts';
import type { Db } from '../../src/db/prisma.ts';
import { GroundTruthStore } from '../../src/groundtruth/store.ts';
import { createLogger } from '../../src/logger.ts';
import { countWindow, countWindowFromRollups } from '../../src/monitor/windows/store.ts';
import { planWindow } from '../../src/rollup/buckets.ts';
import { RollupStore } from '../../src/rollup/store.ts';
import { createEndpoint } from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';

/** a seeded generator, so that a failure can be replayed */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const SEED = Number(process.env.ROLLUP_TEST_SEED ?? Date.now() % 1_000_000);
const next = random(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** a span of a few hours, starting a little before an hour boundary */
const START = Date.parse('2026-11-30T21:47:13.250Z');
const SPAN = 3 * HOUR + 17 * MINUTE;

/** confidences at the edges that matter: bins, thresholds, 0 and 1, and doubles just below a threshold */
const EDGES = [0, 1, 0.5, 0.37, 0.3333, 0.999, 0.001, 0.5 - 2 ** -53, 0.37 - 2 ** -54, 0.33329, 0.33331];

function randomTime(): number {
  const r = next();
  // a fifth of the captures on a minute or hour boundary, or 1 ms before one
  if (r < 0.2) {
    const size = next() < 0.5 ? MINUTE : HOUR;
    const boundary = Math.ceil((START + next() * SPAN) / size) * size;
    return Math.min(START + SPAN - 1, boundary - (next() < 0.5 ? 0 : 1));
  }
  return START + Math.floor(next() * SPAN);
}

function randomCapture(endpointId: string, i: number): CaptureRecord {
  const kind = next();
  // mostly a class and a confidence; some unreadable outputs, a few with one of the two only
  const classId = kind < 0.06 ? null : Math.floor(next() * 43);
  const confidence = kind < 0.03 ? null : kind > 0.97 ? null : next() < 0.3 ? pick(EDGES) : 1 - next() ** 2 * 0.95;
  return {
    id: `roll-${SEED}-${i}`,
    endpointId,
    eventId: `roll-evt-${SEED}-${i}`,
    inferenceTime: new Date(randomTime()),
    modelVersion: 'test',
    inputData: null,
    inputContentType: null,
    output: classId === null ? null : '{}',
    predictedClass: classId,
    confidence,
    top2Class: null,
    top2Score: null,
    top3Class: null,
    top3Score: null,
    features: null,
    imageStats: null,
    outlierScore: null,
  };
}

/** a random window: random bounds, bucket-aligned bounds, a tiny one, or the whole span */
function randomWindow(): { from: number; to: number } {
  const r = next();
  if (r < 0.1) return { from: START - MINUTE, to: START + SPAN + MINUTE };
  if (r < 0.25) {
    const size = pick([MINUTE, HOUR]);
    const a = Math.ceil((START + next() * SPAN) / size) * size;
    const b = Math.ceil((START + next() * SPAN) / size) * size;
    return { from: Math.min(a, b), to: Math.max(a, b) + (next() < 0.5 ? 0 : 1) };
  }
  if (r < 0.35) {
    const from = randomTime();
    return { from, to: from + Math.floor(next() * 2 * MINUTE) };
  }
  const a = randomTime();
  const b = randomTime();
  return { from: Math.min(a, b), to: Math.max(a, b) };
}

async function rollupRows(prisma: Db, endpointId: string) {
  const where = { endpointId };
  const orderBy = { bucketStart: 'asc' } as const;
  const [classes, confidences, labels] = await Promise.all([
    prisma.rollupClass.findMany({ where, orderBy: [orderBy, { bucketSeconds: 'asc' }, { classId: 'asc' }] }),
    prisma.rollupConfidence.findMany({ where, orderBy: [orderBy, { bucketSeconds: 'asc' }, { bin: 'asc' }] }),
    prisma.rollupLabel.findMany({
      where: { ...where, n: { not: 0 } },
      orderBy: [orderBy, { bucketSeconds: 'asc' }, { predictedClass: 'asc' }, { classId: 'asc' }],
      // the time a cell last received a label is a bound the writer keeps, not a count
      omit: { lastReceivedAt: true },
    }),
  ]);
  return { classes, confidences, labels };
}

describe('rollups', () => {
  const server = useTestServer();

  it(`equal raw aggregation on random windows (seed ${SEED})`, async () => {
    const { prisma, provider } = server.app.database;
    const endpointId = await createEndpoint(server, 'rollups');
    const captures = Array.from({ length: 2500 }, (_, i) => randomCapture(endpointId, i));

    // two writers at once (replicas), each a group commit gathering concurrent requests of 1–5 captures
    const writers = [0, 1].map(
      () => new GroupCommit(prisma, createLogger('silent'), { tables: [...CAPTURE_TABLES], maxGroup: 64 }),
    );
    const writes: Promise<void>[] = [];
    for (let i = 0; i < captures.length; ) {
      const n = 1 + Math.floor(next() * 5);
      writes.push(writers[writes.length % 2]!.write(captureTableRows(captures.slice(i, i + n))));
      i += n;
    }
    await Promise.all(writes);

    // labels: a first round, relabels and repeats, and calls at once labelling the same captures
    const { groundTruth } = server.app.services;
    const labelled = captures.filter(() => next() < 0.4);
    const label = (c: CaptureRecord, classId: number) => ({ capture: { captureId: c.id }, label: String(classId) });
    const put = (items: ReturnType<typeof label>[]) =>
      groundTruth
        .put(items, (i) => `input.${i}`)
        .then((outcomes) => {
          for (const o of outcomes) expect(o).not.toBeInstanceOf(Error);
        });
    const chunk = <T>(items: T[], size: number) =>
      Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
    for (const part of chunk(labelled, 300)) await put(part.map((c) => label(c, Math.floor(next() * 43))));
    const receivedBefore = new Date();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = labelled.filter(() => next() < 0.3);
    await Promise.all(
      [0, 1, 2].map(() =>
        put(again.map((c) => label(c, next() < 0.3 ? (c.predictedClass ?? 0) : Math.floor(next() * 43)))),
      ),
    );
    // the same labels again: idempotent
    const current = await groundTruth.ofCaptures(again.map((c) => c.id));
    await put(again.map((c) => label(c, current.get(c.id)!.classId)));

    const rollups = new RollupStore(prisma);
    const labels = new GroundTruthStore(prisma, provider);
    let bucketed = 0;
    for (let w = 0; w < 60; w++) {
      const { from, to } = randomWindow();
      const threshold = pick([0.5, 0.37, 0.3333, 1, 0.9, pick(EDGES.filter((e) => e > 0))]);
      const query = { endpointId, from: new Date(from), to: new Date(to), lowConfidenceThreshold: threshold };
      const [viaRollups, raw] = await Promise.all([
        countWindowFromRollups(prisma, provider, rollups, query),
        countWindow(prisma, provider, query, 'group'),
      ]);
      const context = `window ${new Date(from).toISOString()} – ${new Date(to).toISOString()}, threshold ${threshold}`;
      expect(viaRollups, context).toEqual(raw);
      if (planWindow(from, to).buckets.length) bucketed++;

      const receivedBy = pick([new Date(), receivedBefore, new Date(receivedBefore.getTime() - 1)]);
      const labelQuery = { endpointId, from: new Date(from), to: new Date(to), receivedBy };
      const [cells, rawCells] = await Promise.all([labels.confusion(labelQuery), labels.countLabels(labelQuery)]);
      rawCells.sort((a, b) => a.predicted - b.predicted || a.actual - b.actual);
      expect(cells, `labels of ${context}, received by ${receivedBy.toISOString()}`).toEqual(rawCells);
    }
    // most windows hold whole buckets: the rollups were read, not only raw edges
    expect(bucketed).toBeGreaterThan(30);

    // every capture once: the whole span
    const all = await countWindowFromRollups(prisma, provider, rollups, {
      endpointId,
      from: new Date(START - HOUR),
      to: new Date(START + SPAN + HOUR),
      lowConfidenceThreshold: 0.5,
    });
    expect(all.recordCount).toBe(captures.length);

    // an endpoint whose captures all have a class and a confidence: its bins are read without the
    // `unclassed` column (only windows holding captures without a class read it)
    const readable = await createEndpoint(server, 'rollups-readable');
    const classified = Array.from({ length: 400 }, (_, i) => randomCapture(readable, captures.length + i)).map((c) => ({
      ...c,
      predictedClass: c.predictedClass ?? 7,
      confidence: c.confidence ?? 0.75,
      output: '{}',
    }));
    await writers[0]!.write(captureTableRows(classified));
    for (let w = 0; w < 10; w++) {
      const { from, to } = w === 0 ? { from: START - MINUTE, to: START + SPAN + MINUTE } : randomWindow();
      const query = { endpointId: readable, from: new Date(from), to: new Date(to), lowConfidenceThreshold: 0.37 };
      expect(await countWindowFromRollups(prisma, provider, rollups, query)).toEqual(
        await countWindow(prisma, provider, query, 'group'),
      );
    }

    // what the writers kept is what the backfill computes from the rows
    const kept = await rollupRows(prisma, endpointId);
    expect(kept.labels.length).toBeGreaterThan(0);
    await rollups.rebuild(provider, endpointId);
    expect(await rollupRows(prisma, endpointId)).toEqual(kept);
  });
});
