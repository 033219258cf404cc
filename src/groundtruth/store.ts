/**
 * Prisma access for ground truth: the captures labels name (by capture id or event id), the labels
 * written (an UPSERT: the last label wins; the time received moves only when the label changes), read
 * back by capture, and a window's labelled captures counted by (predicted, true) class in SQL over the
 * (endpointId, inferenceTime) index of the label table: the cost follows the labels, not the captures.
 */
import { type Db, Prisma } from '../db/prisma.ts';
import { LIVE_ENDPOINT } from '../endpoints/store.ts';
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

export class GroundTruthStore implements LabelledWindows {
  constructor(private readonly prisma: Db) {}

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

  /** stores the labels (one per capture: the caller keeps the last of each) in one transaction */
  async upsert(rows: readonly LabelRow[], receivedAt: Date): Promise<void> {
    if (!rows.length) return;
    const statements: Prisma.PrismaPromise<number>[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const values = rows
        .slice(i, i + CHUNK)
        .map(
          ({ target, classId }) =>
            Prisma.sql`(${target.id}, ${target.endpointId}, ${target.inferenceTime}, ${target.predictedClass}, ${classId}, ${receivedAt})`,
        );
      statements.push(this.prisma.$executeRaw`
        INSERT INTO "GroundTruth" ("captureId", "endpointId", "inferenceTime", "predictedClass", "classId", "receivedAt")
        VALUES ${Prisma.join(values)}
        ON CONFLICT ("captureId") DO UPDATE SET
          "receivedAt" = CASE WHEN "GroundTruth"."classId" = excluded."classId" THEN "GroundTruth"."receivedAt" ELSE excluded."receivedAt" END,
          "classId" = excluded."classId"`);
    }
    await this.prisma.$transaction(statements);
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
