/**
 * Counting a window of captures in the database: from the rollups where the window holds whole
 * buckets (countWindowFromRollups), or from the captures themselves (countWindow), as below. Every capture maps to a key combining its predicted
 * class and its confidence's bucket of a 1000-bucket histogram (bucket arithmetic, no CASE ladder);
 * the database counts rows per key, with SUM(CASE WHEN confidence < t) for low confidence. Class
 * counts, missing outputs, low-confidence counts and the histogram come from those (at most a few
 * tens of thousands) rows; captures never reach Node.
 *
 * PostgreSQL counts with GROUP BY (a hash aggregate). SQLite's GROUP BY sorts every row first, which
 * costs most of the time over a million captures; an UPSERT of each row's key into a temporary table
 * counts the same without the sort (about twice as fast), so SQLite does that, in time slices of about
 * SLICE_ROWS rows so that the event loop runs between them (the SQLite driver is synchronous).
 *
 * Exact confidence moments (sum, sum of squares, min, max) cost another pass, so they are asked for
 * only where they are kept (baselines); an execution reads its mean from the histogram (±0.0005).
 *
 * The window predicate binds Date values: Prisma's SQLite adapter binds them as epoch milliseconds
 * (the `unixepoch-ms` timestamp format the columns use) and PostgreSQL as timestamps, so the same
 * predicate runs on both, as an index-only range scan of (endpointId, inferenceTime, predictedClass,
 * confidence). Identifiers are double-quoted, which both accept and PostgreSQL needs.
 */
import { randomBytes } from 'node:crypto';
import { type Db, Prisma } from '../../db/prisma.ts';
import { confidenceBin, NONE, planWindow, type TimeRange } from '../../rollup/buckets.ts';
import { RollupStore } from '../../rollup/store.ts';
import { emptyCounts, HISTOGRAM_BUCKETS, type WindowCounts } from './counts.ts';

const SLICE_ROWS = 100_000;
/** key = class × STRIDE + bucket; bucket NO_CONFIDENCE marks a missing confidence, class −1 a missing class */
const STRIDE = 1024;
const NO_CONFIDENCE = STRIDE - 1;

export type Provider = 'sqlite' | 'postgresql';
/** how rows are counted per key: GROUP BY, or UPSERT into a temporary table (SQLite only) */
export type CountStrategy = 'group' | 'upsert';

export interface WindowQuery {
  endpointId: string;
  /** inclusive */
  from: Date;
  /** exclusive */
  to: Date;
  /** confidence below this counts as low */
  lowConfidenceThreshold: number;
  /** also sum, sum of squares, min and max of confidence, exactly (one more pass) */
  moments?: boolean;
}

interface KeyRow {
  key: bigint | number;
  n: bigint | number;
  low: bigint | number | null;
}

/** a window's counts from the captures themselves (every row of the window read) */
export async function countWindow(
  prisma: Db,
  provider: Provider,
  query: WindowQuery,
  strategy: CountStrategy = provider === 'sqlite' ? 'upsert' : 'group',
): Promise<WindowCounts> {
  const counts = emptyCounts();
  if (query.to.getTime() <= query.from.getTime()) return counts;
  const rows =
    strategy === 'upsert' ? await upsertCounts(prisma, provider, query) : await groupCounts(prisma, provider, query);
  addRows(counts, rows);
  const c = counts.confidence;
  if (query.moments) {
    const [m] = await prisma.$queryRaw<
      [{ sum: number | null; sumSquares: number | null; min: number | null; max: number | null }]
    >`
      SELECT SUM("confidence") AS "sum", SUM("confidence" * "confidence") AS "sumSquares", MIN("confidence") AS "min", MAX("confidence") AS "max"
      FROM "Capture" WHERE ${windowPredicate(query)}`;
    [c.sum, c.sumSquares, c.min, c.max] = [
      Number(m.sum ?? 0),
      Number(m.sumSquares ?? 0),
      m.min === null ? null : Number(m.min),
      m.max === null ? null : Number(m.max),
    ];
  } else {
    momentsFromHistogram(counts);
  }
  return counts;
}

/**
 * The same counts from the rollups (src/rollup) for the whole buckets of the window, and from the
 * captures only in the partial minutes at its edges. Identical to countWindow without moments: the
 * rollups count the same keys (class, and the same confidence bins), and low confidence is exact
 * too. Every bin below the threshold's bin is entirely below the threshold and every bin above it
 * entirely not (the bin is a monotonic function of the confidence); the threshold's own bin is
 * settled by its least and greatest confidence, and only when captures fall on both sides of the
 * threshold within that thousandth (a threshold not a multiple of 0.001) are its captures counted
 * from the rows of the covered part.
 */
export async function countWindowFromRollups(
  prisma: Db,
  provider: Provider,
  rollups: RollupStore,
  query: WindowQuery,
): Promise<WindowCounts> {
  const counts = emptyCounts();
  const plan = planWindow(query.from.getTime(), query.to.getTime());
  const t = query.lowConfidenceThreshold;
  const thresholdBin = confidenceBin(t);
  const classes = await rollups.classSums(query.endpointId, plan.buckets);
  // captures with a confidence but no class: only then does a bin's histogram count differ from its n
  const none = classes.get(NONE);
  const unclassed = none !== undefined && none.n > none.unscored;
  const [bins, thresholdRange, ...edges] = await Promise.all([
    rollups.binCounts(query.endpointId, plan.buckets, unclassed),
    rollups.binRange(query.endpointId, plan.buckets, thresholdBin),
    ...plan.raw.map((r) => groupCounts(prisma, provider, { ...query, from: new Date(r.from), to: new Date(r.to) })),
  ]);
  for (const rows of edges) addRows(counts, rows);
  const c = counts.confidence;
  for (const [classId, sum] of classes) {
    if (sum.n === 0) continue;
    counts.recordCount += sum.n;
    if (classId === NONE) counts.missingCount += sum.n;
    else {
      counts.classCounts.set(classId, (counts.classCounts.get(classId) ?? 0) + sum.n);
      counts.missingCount += sum.unscored;
    }
  }
  for (const [bin, sum] of bins) {
    if (bin === NONE) continue;
    const scored = sum.n - sum.unclassed;
    if (scored > 0) {
      c.histogram[Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, bin))]! += scored;
      c.count += scored;
    }
    if (bin < thresholdBin) counts.lowConfidenceCount += sum.n;
  }
  // the threshold's own bin: wholly below it, wholly not, or (captures on both sides) from the rows
  const { min, max } = thresholdRange;
  if (max !== null && max < t) counts.lowConfidenceCount += bins.get(thresholdBin)?.n ?? 0;
  else if (min !== null && min < t)
    counts.lowConfidenceCount += await countBelowInBin(prisma, provider, query, plan.buckets, thresholdBin);
  momentsFromHistogram(counts);
  return counts;
}

/** captures of the bucket ranges in confidence bin `bin` below the threshold, from the rows */
async function countBelowInBin(
  prisma: Db,
  provider: Provider,
  q: WindowQuery,
  ranges: readonly TimeRange[],
  bin: number,
): Promise<number> {
  let n = 0;
  for (const r of ranges) {
    const [row] = await prisma.$queryRaw<[{ n: bigint | number }]>`
      SELECT COUNT(*) AS "n" FROM "Capture"
      WHERE ${windowPredicate({ endpointId: q.endpointId, from: new Date(r.from), to: new Date(r.to) })}
        AND "confidence" < ${q.lowConfidenceThreshold} AND ${binOf(provider)} = ${bin}`;
    n += Number(row.n);
  }
  return n;
}

/** an execution's confidence mean and range, from bucket midpoints and the edges of the outermost non-empty buckets */
function momentsFromHistogram(counts: WindowCounts): void {
  const c = counts.confidence;
  c.histogram.forEach((n, b) => {
    const mid = (b + 0.5) / HISTOGRAM_BUCKETS;
    c.sum += n * mid;
    c.sumSquares += n * mid * mid;
  });
  const first = c.histogram.findIndex((n) => n > 0);
  const last = c.histogram.findLastIndex((n) => n > 0);
  if (first >= 0) [c.min, c.max] = [first / HISTOGRAM_BUCKETS, Math.min(1, (last + 1) / HISTOGRAM_BUCKETS)];
}

function windowPredicate(q: { endpointId: string; from: Date; to: Date }): Prisma.Sql {
  return Prisma.sql`"endpointId" = ${q.endpointId} AND "inferenceTime" >= ${q.from} AND "inferenceTime" < ${q.to}`;
}

/** a confidence's bucket; it truncates (SQLite's CAST truncates, PostgreSQL's rounds, hence FLOOR) */
function bucketOf(provider: Provider): string {
  const scaled = `"confidence" * ${HISTOGRAM_BUCKETS}`;
  return provider === 'sqlite' ? `CAST(${scaled} AS INTEGER)` : `CAST(FLOOR(${scaled}) AS INTEGER)`;
}

function binOf(provider: Provider): Prisma.Sql {
  return Prisma.raw(bucketOf(provider));
}

/** a capture's key */
function keyOf(provider: Provider): Prisma.Sql {
  return Prisma.raw(`COALESCE("predictedClass", -1) * ${STRIDE} + COALESCE(${bucketOf(provider)}, ${NO_CONFIDENCE})`);
}

function lowOf(q: WindowQuery): Prisma.Sql {
  return Prisma.sql`CASE WHEN "confidence" < ${q.lowConfidenceThreshold} THEN 1 ELSE 0 END`;
}

function groupCounts(prisma: Db, provider: Provider, q: WindowQuery): Promise<KeyRow[]> {
  return prisma.$queryRaw<KeyRow[]>`
    SELECT ${keyOf(provider)} AS "key", COUNT(*) AS "n", SUM(${lowOf(q)}) AS "low"
    FROM "Capture" WHERE ${windowPredicate(q)}
    GROUP BY 1`;
}

/** SQLite: one connection, so the temporary table is this call's alone (and uniquely named anyway) */
async function upsertCounts(prisma: Db, provider: Provider, q: WindowQuery): Promise<KeyRow[]> {
  const table = Prisma.raw(`temp."monitor_counts_${randomBytes(6).toString('hex')}"`);
  const [{ rows }] = await prisma.$queryRaw<
    [{ rows: bigint | number }]
  >`SELECT COUNT(*) AS "rows" FROM "Capture" WHERE ${windowPredicate(q)}`;
  const start = q.from.getTime();
  const span = q.to.getTime() - start;
  const slices = Math.max(1, Math.min(Math.ceil(Number(rows) / SLICE_ROWS), span));
  await prisma.$executeRaw`CREATE TABLE ${table} ("key" INTEGER PRIMARY KEY, "n" INTEGER NOT NULL, "low" INTEGER NOT NULL)`;
  try {
    for (let i = 0; i < slices; i++) {
      const from = new Date(start + Math.round((span * i) / slices));
      const to = new Date(start + Math.round((span * (i + 1)) / slices));
      await prisma.$executeRaw`
        INSERT INTO ${table} ("key", "n", "low")
        SELECT ${keyOf(provider)}, 1, ${lowOf(q)} FROM "Capture" WHERE ${windowPredicate({ endpointId: q.endpointId, from, to })}
        ON CONFLICT ("key") DO UPDATE SET "n" = "n" + 1, "low" = "low" + excluded."low"`;
    }
    return await prisma.$queryRaw<KeyRow[]>`SELECT "key", "n", "low" FROM ${table}`;
  } finally {
    await prisma.$executeRaw`DROP TABLE IF EXISTS ${table}`;
  }
}

function addRows(counts: WindowCounts, rows: KeyRow[]): void {
  const c = counts.confidence;
  for (const row of rows) {
    const key = Number(row.key);
    const n = Number(row.n);
    const classId = Math.floor(key / STRIDE);
    const bucket = key - classId * STRIDE;
    counts.recordCount += n;
    counts.lowConfidenceCount += Number(row.low ?? 0);
    if (classId >= 0) counts.classCounts.set(classId, (counts.classCounts.get(classId) ?? 0) + n);
    if (classId < 0 || bucket === NO_CONFIDENCE) {
      counts.missingCount += n;
    } else {
      c.histogram[Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, bucket))]! += n;
      c.count += n;
    }
  }
}

/** A window's counts and an endpoint's first capture, for the services (which hold no database client). */
export class WindowStore {
  readonly #rollups: RollupStore;
  /** where executions' windows are counted from: the rollups, or (a benchmark's comparison) every capture */
  source: 'rollups' | 'captures' = 'rollups';

  constructor(
    private readonly prisma: Db,
    private readonly provider: Provider,
  ) {
    this.#rollups = new RollupStore(prisma);
  }

  /** from the rollups and the window's edges; exact moments (baselines) from every capture */
  count(query: WindowQuery): Promise<WindowCounts> {
    if (query.moments || this.source === 'captures') return countWindow(this.prisma, this.provider, query);
    return countWindowFromRollups(this.prisma, this.provider, this.#rollups, query);
  }

  /** the first capture of an endpoint: where a schedule's first window starts */
  async firstCaptureTime(endpointId: string): Promise<Date | null> {
    const first = await this.prisma.capture.findFirst({
      where: { endpointId },
      orderBy: { inferenceTime: 'asc' },
      select: { inferenceTime: true },
    });
    return first?.inferenceTime ?? null;
  }
}
