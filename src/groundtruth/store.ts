/**
 * Prisma access for ground truth: the captures labels name (by capture id or event id), the labels
 * written (an UPSERT: the last label wins; the time received moves only when the label changes) with
 * their moves in the label rollup (rollup/tables.ts) in the same transaction, read back by capture,
 * and a window's labelled captures counted by (predicted, true) class: from the rollup's whole
 * buckets, and in SQL over the (endpointId, inferenceTime) index of the label table at the window's
 * edges and in buckets holding labels received after the run started.
 */
import { writeValues } from '../db/insert.ts';
import { type Db, Prisma } from '../db/prisma.ts';
import { LIVE_ENDPOINT } from '../endpoints/store.ts';
import { planWindow } from '../rollup/buckets.ts';
import { type Provider, RollupStore } from '../rollup/store.ts';
import { labelRollupRows } from '../rollup/tables.ts';
import type { ConfusionCell, GroundTruthRecord, LabelledWindowQuery, LabelledWindows } from './types.ts';

/** a capture a label may be stored for */
export interface LabelTarget {
  id: string;
  eventId: string;
  endpointId: string;
  model: string;
  inferenceTime: Date;
  predictedClass: number | null;
}

export interface LabelRow {
  target: LabelTarget;
  classId: number;
}

/** rows per INSERT (6 parameters each) */
const CHUNK = 500;
/** a batch of MAX_GROUND_TRUTH_ITEMS labels is well within these */
const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 30_000 };

export class GroundTruthStore implements LabelledWindows {
  readonly #rollups: RollupStore;

  constructor(
    private readonly prisma: Db,
    private readonly provider: Provider,
  ) {
    this.#rollups = new RollupStore(prisma);
  }

  /** the captures of live endpoints with these ids or event ids, in one query */
  async targets(keys: { ids: readonly string[]; eventIds: readonly string[] }): Promise<LabelTarget[]> {
    if (!keys.ids.length && !keys.eventIds.length) return [];
    const rows = await this.prisma.capture.findMany({
      where: { OR: [{ id: { in: [...keys.ids] } }, { eventId: { in: [...keys.eventIds] } }], endpoint: LIVE_ENDPOINT },
      select: {
        id: true,
        eventId: true,
        endpointId: true,
        inferenceTime: true,
        predictedClass: true,
        endpoint: { select: { model: true } },
      },
    });
    return rows.map(({ endpoint, ...row }) => ({ ...row, model: endpoint.model }));
  }

  /**
   * Stores the labels (one per capture: the caller keeps the last of each) and moves their counts in
   * the label rollup, in one transaction. The captures' rows are locked first (PostgreSQL; SQLite's
   * writers take turns), so that the labels they hold, read next, are still theirs when replaced: two
   * calls labelling the same capture at once move its count once each, in turn.
   */
  async upsert(rows: readonly LabelRow[], receivedAt: Date): Promise<void> {
    if (!rows.length) return;
    const ids = rows.map((r) => r.target.id).sort();
    await this.prisma.$transaction(async (tx) => {
      const previous = new Map<string, number>();
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        if (this.provider === 'postgresql')
          await tx.$queryRaw`SELECT "id" FROM "Capture" WHERE "id" IN (${Prisma.join(chunk)}) ORDER BY "id" FOR NO KEY UPDATE`;
        const labels = await tx.$queryRaw<{ captureId: string; classId: number | bigint }[]>`
          SELECT "captureId", "classId" FROM "GroundTruth" WHERE "captureId" IN (${Prisma.join(chunk)})`;
        for (const l of labels) previous.set(l.captureId, Number(l.classId));
      }
      for (let i = 0; i < rows.length; i += CHUNK) {
        const values = rows
          .slice(i, i + CHUNK)
          .map(
            ({ target, classId }) =>
              Prisma.sql`(${target.id}, ${target.endpointId}, ${target.inferenceTime}, ${target.predictedClass}, ${classId}, ${receivedAt})`,
          );
        await tx.$executeRaw`
          INSERT INTO "GroundTruth" ("captureId", "endpointId", "inferenceTime", "predictedClass", "classId", "receivedAt")
          VALUES ${Prisma.join(values)}
          ON CONFLICT ("captureId") DO UPDATE SET
            "receivedAt" = CASE WHEN "GroundTruth"."classId" = excluded."classId" THEN "GroundTruth"."receivedAt" ELSE excluded."receivedAt" END,
            "classId" = excluded."classId"`;
      }
      const moves = labelRollupRows(
        rows.map(({ target, classId }) => ({
          endpointId: target.endpointId,
          inferenceTime: target.inferenceTime,
          predictedClass: target.predictedClass,
          previousClassId: previous.get(target.id) ?? null,
          classId,
          receivedAt,
        })),
      );
      if (moves) for (const statement of writeValues(tx, moves)) await statement;
    }, TRANSACTION_LIMITS);
  }

  /** the labels of these captures, by capture id (for DataLoaders and answers) */
  async ofCaptures(captureIds: readonly string[]): Promise<Map<string, GroundTruthRecord>> {
    if (!captureIds.length) return new Map();
    const rows = await this.prisma.groundTruth.findMany({
      where: { captureId: { in: [...captureIds] } },
      select: {
        captureId: true,
        classId: true,
        receivedAt: true,
        capture: { select: { eventId: true, endpoint: { select: { model: true } } } },
      },
    });
    return new Map(
      rows.map((r) => [
        r.captureId,
        {
          captureId: r.captureId,
          eventId: r.capture.eventId,
          model: r.capture.endpoint.model,
          classId: r.classId,
          receivedAt: r.receivedAt,
        },
      ]),
    );
  }

  /** a window's labelled captures that have a predicted class, counted by (predicted, true) class */
  async confusion(q: LabelledWindowQuery): Promise<ConfusionCell[]> {
    const plan = planWindow(q.from.getTime(), q.to.getTime());
    const { cells, stale } = await this.#rollups.labelSums(q.endpointId, plan.buckets, q.receivedBy);
    const raw = await Promise.all(
      [...plan.raw, ...stale].map((r) => this.countLabels({ ...q, from: new Date(r.from), to: new Date(r.to) })),
    );
    const sums = new Map<string, ConfusionCell>();
    for (const cell of [...cells, ...raw.flat()]) {
      const key = `${cell.predicted}:${cell.actual}`;
      const into = sums.get(key);
      if (into) into.count += cell.count;
      else sums.set(key, { ...cell });
    }
    return [...sums.values()]
      .filter((c) => c.count !== 0)
      .sort((a, b) => a.predicted - b.predicted || a.actual - b.actual);
  }

  /** the same, from the labels themselves */
  async countLabels(q: LabelledWindowQuery): Promise<ConfusionCell[]> {
    if (q.to.getTime() <= q.from.getTime()) return [];
    const rows = await this.prisma.$queryRaw<
      { predicted: number | bigint; actual: number | bigint; n: number | bigint }[]
    >`
      SELECT "predictedClass" AS "predicted", "classId" AS "actual", COUNT(*) AS "n" FROM "GroundTruth"
      WHERE "endpointId" = ${q.endpointId} AND "inferenceTime" >= ${q.from} AND "inferenceTime" < ${q.to}
        AND "receivedAt" <= ${q.receivedBy} AND "predictedClass" IS NOT NULL
      GROUP BY "predictedClass", "classId"`;
    return rows.map((r) => ({ predicted: Number(r.predicted), actual: Number(r.actual), count: Number(r.n) }));
  }
}
