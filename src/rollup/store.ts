/**
 * Reading the rollups: the sums of whole buckets (a window's plan, buckets.ts), one query per table
 * over every bucket range of the window (a UNION ALL of primary-key range scans, summed in SQL so that
 * only a row per class or bin comes back; the confidence bins' least and greatest confidence in a query
 * of their own, for one bin); and the
 * buckets rebuilt from the captures and labels themselves (the migration that added rollups does the
 * same in SQL; the monitor benchmark seeds with it).
 */
import { type Db, Prisma } from '../db/prisma.ts';
import { BUCKET_SECONDS, type BucketRange, type BucketSeconds, CONFIDENCE_BINS } from './buckets.ts';

export type Provider = 'sqlite' | 'postgresql';

export interface ClassSum {
  n: number;
  unscored: number;
}

/** a confidence bin's least and greatest confidence */
export interface BinRange {
  min: number | null;
  max: number | null;
}

export interface LabelSums {
  /** (predicted, true) class → labelled captures, over the buckets not in `stale` */
  cells: { predicted: number; actual: number; count: number }[];
  /** buckets holding a label received after `receivedBy`: to be read from the labels themselves */
  stale: BucketRange[];
}

type Num = number | bigint;
const num = (v: Num | null): number => Number(v ?? 0);

/** the WHERE of one bucket range */
function inRange(endpointId: string, r: BucketRange): Prisma.Sql {
  return Prisma.sql`"endpointId" = ${endpointId} AND "bucketSeconds" = ${r.seconds} AND "bucketStart" >= ${new Date(r.from)} AND "bucketStart" < ${new Date(r.to)}`;
}

/** `SELECT <columns> FROM table WHERE <range> <and>` for each range, as one UNION ALL */
function overRanges(
  table: string,
  columns: string,
  endpointId: string,
  ranges: readonly BucketRange[],
  and: Prisma.Sql = Prisma.empty,
): Prisma.Sql {
  return Prisma.join(
    ranges.map(
      (r) =>
        Prisma.sql`SELECT ${Prisma.raw(columns)} FROM ${Prisma.raw(`"${table}"`)} WHERE ${inRange(endpointId, r)} ${and}`,
    ),
    ' UNION ALL ',
  );
}

export class RollupStore {
  constructor(private readonly prisma: Db) {}

  /** captures per predicted class over whole buckets */
  async classSums(endpointId: string, ranges: readonly BucketRange[]): Promise<Map<number, ClassSum>> {
    const sums = new Map<number, ClassSum>();
    if (!ranges.length) return sums;
    const rows = await this.prisma.$queryRaw<{ classId: Num; n: Num; unscored: Num }[]>`
      SELECT "classId", SUM("n") AS "n", SUM("unscored") AS "unscored"
      FROM (${overRanges('RollupClass', '"classId", "n", "unscored"', endpointId, ranges)}) AS "r"
      GROUP BY "classId"`;
    for (const r of rows) sums.set(num(r.classId), { n: num(r.n), unscored: num(r.unscored) });
    return sums;
  }

  /**
   * Captures per confidence bin over whole buckets (`n`), and of them those without a predicted class
   * (`unclassed`) only when asked: the executions' hottest query, a day's window being ~24 hours of up
   * to 1,000 bins each plus the minutes around them, so it reads no column it does not need (each
   * summed column costs as much as the scan). Each range is grouped apart, then the groups together.
   */
  async binCounts(
    endpointId: string,
    ranges: readonly BucketRange[],
    withUnclassed: boolean,
  ): Promise<Map<number, { n: number; unclassed: number }>> {
    const counts = new Map<number, { n: number; unclassed: number }>();
    if (!ranges.length) return counts;
    const unclassed = Prisma.raw(withUnclassed ? 'SUM("unclassed")' : '0');
    const grouped = Prisma.join(
      ranges.map(
        (r) => Prisma.sql`SELECT "bin", SUM("n") AS "n", ${unclassed} AS "unclassed" FROM "RollupConfidence"
          WHERE ${inRange(endpointId, r)} GROUP BY "bin"`,
      ),
      ' UNION ALL ',
    );
    const rows = await this.prisma.$queryRaw<{ bin: Num; n: Num; unclassed: Num }[]>`
      SELECT "bin", CAST(SUM("n") AS BIGINT) AS "n", CAST(SUM("unclassed") AS BIGINT) AS "unclassed"
      FROM (${grouped}) AS "r" GROUP BY "bin"`;
    for (const r of rows) counts.set(num(r.bin), { n: num(r.n), unclassed: num(r.unclassed) });
    return counts;
  }

  /** the least and greatest confidence of one bin over whole buckets (nulls when it holds none) */
  async binRange(endpointId: string, ranges: readonly BucketRange[], bin: number): Promise<BinRange> {
    if (!ranges.length) return { min: null, max: null };
    const [row] = await this.prisma.$queryRaw<[{ min: number | null; max: number | null }]>`
      SELECT MIN("minConfidence") AS "min", MAX("maxConfidence") AS "max"
      FROM (${overRanges('RollupConfidence', '"minConfidence", "maxConfidence"', endpointId, ranges, Prisma.sql`AND "bin" = ${bin}`)}) AS "r"`;
    return { min: row.min === null ? null : Number(row.min), max: row.max === null ? null : Number(row.max) };
  }

  /** labelled captures per (predicted, true) class over whole buckets, except those with labels received after `receivedBy` */
  async labelSums(endpointId: string, ranges: readonly BucketRange[], receivedBy: Date): Promise<LabelSums> {
    if (!ranges.length) return { cells: [], stale: [] };
    const staleRows = await this.prisma.$queryRaw<{ seconds: Num; start: Date | Num }[]>`
      SELECT DISTINCT "bucketSeconds" AS "seconds", "bucketStart" AS "start"
      FROM (${overRanges('RollupLabel', '"bucketSeconds", "bucketStart", "lastReceivedAt"', endpointId, ranges)}) AS "r"
      WHERE "lastReceivedAt" > ${receivedBy}`;
    const stale = staleRows
      .map((r): BucketRange => {
        const seconds = num(r.seconds) as BucketSeconds;
        // SQLite gives the bare epoch milliseconds once the column has gone through a subquery
        const from = r.start instanceof Date ? r.start.getTime() : Number(r.start);
        return { seconds, from, to: from + seconds * 1000 };
      })
      .sort((a, b) => a.from - b.from);
    const fresh = ranges.flatMap((r) => without(r, stale));
    if (!fresh.length) return { cells: [], stale };
    const rows = await this.prisma.$queryRaw<{ predicted: Num; actual: Num; n: Num }[]>`
      SELECT "predictedClass" AS "predicted", "classId" AS "actual", SUM("n") AS "n"
      FROM (${overRanges('RollupLabel', '"predictedClass", "classId", "n"', endpointId, fresh)}) AS "r"
      GROUP BY "predictedClass", "classId"`;
    const cells = rows.map((r) => ({ predicted: num(r.predicted), actual: num(r.actual), count: num(r.n) }));
    return { cells, stale };
  }

  /**
   * Rebuilds the rollups of an endpoint (or of every endpoint) from its captures and labels: what the
   * writers would have added, had they written every capture and label now. One INSERT … SELECT per
   * table for the smallest buckets, read from the rows, then one per larger size, summed from the size
   * below (an hour is its minutes). The endpoint's rollup rows are deleted first.
   */
  async rebuild(provider: Provider, endpointId?: string): Promise<void> {
    const where = (column = '"endpointId"') =>
      endpointId === undefined ? Prisma.empty : Prisma.sql`AND ${Prisma.raw(column)} = ${endpointId}`;
    const statements: Prisma.PrismaPromise<number>[] = [];
    for (const table of ['RollupClass', 'RollupConfidence', 'RollupLabel'])
      statements.push(this.prisma.$executeRaw`DELETE FROM ${Prisma.raw(`"${table}"`)} WHERE 1 = 1 ${where()}`);
    const sizes = [...BUCKET_SECONDS].sort((a, b) => a - b);
    const smallest = sizes[0]!;
    const bucket = Prisma.raw(bucketSql(provider, smallest, '"inferenceTime"'));
    const bin = Prisma.raw(binSql(provider));
    statements.push(this.prisma.$executeRaw`
      INSERT INTO "RollupClass" ("endpointId", "bucketSeconds", "bucketStart", "classId", "n", "unscored")
      SELECT "endpointId", ${smallest}, ${bucket}, COALESCE("predictedClass", -1), COUNT(*),
        SUM(CASE WHEN "confidence" IS NULL THEN 1 ELSE 0 END)
      FROM "Capture" WHERE 1 = 1 ${where()}
      GROUP BY "endpointId", ${bucket}, COALESCE("predictedClass", -1)`);
    statements.push(this.prisma.$executeRaw`
      INSERT INTO "RollupConfidence" ("endpointId", "bucketSeconds", "bucketStart", "bin", "n", "unclassed", "minConfidence", "maxConfidence")
      SELECT "endpointId", ${smallest}, ${bucket}, ${bin}, COUNT(*),
        SUM(CASE WHEN "predictedClass" IS NULL THEN 1 ELSE 0 END), MIN("confidence"), MAX("confidence")
      FROM "Capture" WHERE 1 = 1 ${where()}
      GROUP BY "endpointId", ${bucket}, ${bin}`);
    statements.push(this.prisma.$executeRaw`
      INSERT INTO "RollupLabel" ("endpointId", "bucketSeconds", "bucketStart", "predictedClass", "classId", "n", "lastReceivedAt")
      SELECT "endpointId", ${smallest}, ${bucket}, "predictedClass", "classId", COUNT(*), MAX("receivedAt")
      FROM "GroundTruth" WHERE "predictedClass" IS NOT NULL ${where()}
      GROUP BY "endpointId", ${bucket}, "predictedClass", "classId"`);
    for (const [below, seconds] of sizes.slice(1).map((s, i) => [sizes[i]!, s] as const)) {
      const larger = Prisma.raw(bucketSql(provider, seconds, '"bucketStart"'));
      const from = Prisma.sql`WHERE "bucketSeconds" = ${below} ${where()}`;
      statements.push(this.prisma.$executeRaw`
        INSERT INTO "RollupClass" ("endpointId", "bucketSeconds", "bucketStart", "classId", "n", "unscored")
        SELECT "endpointId", ${seconds}, ${larger}, "classId", SUM("n"), SUM("unscored")
        FROM "RollupClass" ${from} GROUP BY "endpointId", ${larger}, "classId"`);
      statements.push(this.prisma.$executeRaw`
        INSERT INTO "RollupConfidence" ("endpointId", "bucketSeconds", "bucketStart", "bin", "n", "unclassed", "minConfidence", "maxConfidence")
        SELECT "endpointId", ${seconds}, ${larger}, "bin", SUM("n"), SUM("unclassed"), MIN("minConfidence"), MAX("maxConfidence")
        FROM "RollupConfidence" ${from} GROUP BY "endpointId", ${larger}, "bin"`);
      statements.push(this.prisma.$executeRaw`
        INSERT INTO "RollupLabel" ("endpointId", "bucketSeconds", "bucketStart", "predictedClass", "classId", "n", "lastReceivedAt")
        SELECT "endpointId", ${seconds}, ${larger}, "predictedClass", "classId", SUM("n"), MAX("lastReceivedAt")
        FROM "RollupLabel" ${from} GROUP BY "endpointId", ${larger}, "predictedClass", "classId"`);
    }
    await this.prisma.$transaction(statements);
  }
}

/** a range's buckets less the stale ones, as ranges */
function without(range: BucketRange, stale: readonly BucketRange[]): BucketRange[] {
  const out: BucketRange[] = [];
  let from = range.from;
  for (const s of stale) {
    if (s.seconds !== range.seconds || s.from < range.from || s.from >= range.to) continue;
    if (s.from > from) out.push({ seconds: range.seconds, from, to: s.from });
    from = s.to;
  }
  if (from < range.to) out.push({ seconds: range.seconds, from, to: range.to });
  return out;
}

/** the start of a time's bucket, in SQL (SQLite keeps times as epoch milliseconds) */
export function bucketSql(provider: Provider, seconds: BucketSeconds, column: string): string {
  if (provider === 'sqlite') return `((CAST(${column} AS INTEGER) / ${seconds * 1000}) * ${seconds * 1000})`;
  return `date_trunc('${seconds === 60 ? 'minute' : 'hour'}', ${column})`;
}

/** a capture's confidence bin in SQL, as monitor/windows/store.ts computes it; -1 without a confidence */
export function binSql(provider: Provider): string {
  const scaled = `"confidence" * ${CONFIDENCE_BINS}`;
  const bin = provider === 'sqlite' ? `CAST(${scaled} AS INTEGER)` : `CAST(FLOOR(${scaled}) AS INTEGER)`;
  return `COALESCE(${bin}, -1)`;
}
