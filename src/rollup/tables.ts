/**
 * The rollup tables as their writers fill them: a capture's rows (one per bucket size, in the class and
 * confidence tables), handed to the group commit beside the capture's own row, and a label's moves in
 * the label table (+1 where it now counts, −1 where a relabel took it from), written by the ground-truth
 * store in the transaction of the label.
 */
import { CounterTable, type TableRows } from '../db/insert.ts';
import { BUCKET_SECONDS, bucketStart, confidenceBin, NONE } from './buckets.ts';

interface BucketKey {
  endpointId: string;
  bucketSeconds: number;
  bucketStart: Date;
}

export interface ClassRow extends BucketKey {
  classId: number;
  n: number;
  unscored: number;
}

export interface ConfidenceRow extends BucketKey {
  bin: number;
  n: number;
  unclassed: number;
  minConfidence: number | null;
  maxConfidence: number | null;
}

export interface LabelRow extends BucketKey {
  predictedClass: number;
  classId: number;
  n: number;
  lastReceivedAt: Date;
}

const BUCKET_KEY = ['endpointId', 'bucketSeconds', 'bucketStart'] as const;

export const ROLLUP_CLASS_TABLE = new CounterTable<ClassRow>(
  'RollupClass',
  [...BUCKET_KEY, 'classId'],
  [
    ['n', 'sum'],
    ['unscored', 'sum'],
  ],
);

export const ROLLUP_CONFIDENCE_TABLE = new CounterTable<ConfidenceRow>(
  'RollupConfidence',
  [...BUCKET_KEY, 'bin'],
  [
    ['n', 'sum'],
    ['unclassed', 'sum'],
    ['minConfidence', 'min'],
    ['maxConfidence', 'max'],
  ],
);

export const ROLLUP_LABEL_TABLE = new CounterTable<LabelRow>(
  'RollupLabel',
  [...BUCKET_KEY, 'predictedClass', 'classId'],
  [
    ['n', 'sum'],
    ['lastReceivedAt', 'max'],
  ],
);

/** the rollup tables the capture writer adds to, in the order it writes them */
export const CAPTURE_ROLLUP_TABLES = [ROLLUP_CLASS_TABLE.name, ROLLUP_CONFIDENCE_TABLE.name] as const;

/** what the rollups read of a capture */
export interface RolledCapture {
  endpointId: string;
  inferenceTime: Date;
  predictedClass: number | null;
  confidence: number | null;
}

function bucketsOf(endpointId: string, at: Date): BucketKey[] {
  return BUCKET_SECONDS.map((seconds) => ({
    endpointId,
    bucketSeconds: seconds,
    bucketStart: new Date(bucketStart(at.getTime(), seconds)),
  }));
}

/** the captures' additions to the class and confidence rollups (empty for no capture) */
export function captureRollupRows(captures: readonly RolledCapture[]): TableRows[] {
  if (!captures.length) return [];
  const classes: ClassRow[] = [];
  const confidences: ConfidenceRow[] = [];
  for (const c of captures) {
    for (const key of bucketsOf(c.endpointId, c.inferenceTime)) {
      classes.push({ ...key, classId: c.predictedClass ?? NONE, n: 1, unscored: c.confidence === null ? 1 : 0 });
      confidences.push({
        ...key,
        bin: confidenceBin(c.confidence),
        n: 1,
        unclassed: c.predictedClass === null ? 1 : 0,
        minConfidence: c.confidence,
        maxConfidence: c.confidence,
      });
    }
  }
  return [ROLLUP_CLASS_TABLE.rows(classes), ROLLUP_CONFIDENCE_TABLE.rows(confidences)];
}

/** a label stored for a capture: where it counted before (null: it had none) and where it counts now */
export interface LabelMove {
  endpointId: string;
  inferenceTime: Date;
  /** captures without a predicted class are not counted */
  predictedClass: number | null;
  previousClassId: number | null;
  classId: number;
  receivedAt: Date;
}

/** the label rollup's changes for these moves (a label sent again unchanged moves nothing) */
export function labelRollupRows(moves: readonly LabelMove[]): TableRows | null {
  const rows: LabelRow[] = [];
  for (const m of moves) {
    if (m.predictedClass === null || m.previousClassId === m.classId) continue;
    for (const key of bucketsOf(m.endpointId, m.inferenceTime)) {
      const at = { ...key, predictedClass: m.predictedClass };
      rows.push({ ...at, classId: m.classId, n: 1, lastReceivedAt: m.receivedAt });
      // the count leaves its old cell; that cell's lastReceivedAt stays a bound of what it still counts
      if (m.previousClassId !== null)
        rows.push({ ...at, classId: m.previousClassId, n: -1, lastReceivedAt: new Date(0) });
    }
  }
  return rows.length ? ROLLUP_LABEL_TABLE.rows(rows) : null;
}
