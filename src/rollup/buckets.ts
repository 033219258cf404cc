/**
 * Rollup buckets: what time each covers, and how a window splits into whole buckets and raw edges.
 *
 * Two sizes, a minute and an hour, both kept for every capture. A window [from, to) is read as whole
 * hours where it holds them, whole minutes around those, and the captures themselves only in the
 * partial minutes at its two ends: reading a day's window costs at most 24 hour buckets and 118 minute
 * buckets, whatever the traffic, and at most two minutes of raw rows. One size could not do both: hours
 * alone leave up to two hours of raw rows at the edges (a schedule's window starts and ends at the
 * moment its runs happen, never on a boundary), minutes alone make a day 1,440 buckets of up to 1,000
 * confidence bins each.
 */

/** bucket sizes in seconds, largest first; every bucket starts at a multiple of its size since the epoch (UTC) */
export const BUCKET_SECONDS = [3600, 60] as const;
export type BucketSeconds = (typeof BUCKET_SECONDS)[number];

/** confidence bins of the rollups: the checks' histogram (monitor/windows/counts.ts HISTOGRAM_BUCKETS) */
export const CONFIDENCE_BINS = 1000;
/** the bin of a missing confidence, and the class of a missing predicted class */
export const NONE = -1;

/** [from, to) in epoch milliseconds */
export interface TimeRange {
  from: number;
  to: number;
}

export interface BucketRange extends TimeRange {
  /** bucket size; from and to are multiples of it */
  seconds: BucketSeconds;
}

/** a window read as whole buckets and the raw captures of what they do not cover */
export interface WindowPlan {
  buckets: BucketRange[];
  raw: TimeRange[];
}

export function bucketStart(ms: number, seconds: BucketSeconds): number {
  const size = seconds * 1000;
  return Math.floor(ms / size) * size;
}

/**
 * The bin of a confidence, as the SQL aggregation computes it (floor(confidence × 1000), the same IEEE
 * multiplication), unclamped; NONE without a confidence.
 */
export function confidenceBin(confidence: number | null): number {
  return confidence === null ? NONE : Math.floor(confidence * CONFIDENCE_BINS);
}

/** [from, to) as whole buckets, largest first, and the raw ranges at its edges (empty ranges left out) */
export function planWindow(from: number, to: number): WindowPlan {
  const plan: WindowPlan = { buckets: [], raw: [] };
  if (to <= from) return plan;
  split({ from, to }, 0, plan);
  plan.buckets.sort((a, b) => a.from - b.from);
  plan.raw.sort((a, b) => a.from - b.from);
  return plan;
}

function split(range: TimeRange, level: number, plan: WindowPlan): void {
  if (range.to <= range.from) return;
  const seconds = BUCKET_SECONDS[level];
  if (seconds === undefined) {
    plan.raw.push(range);
    return;
  }
  const size = seconds * 1000;
  const first = Math.ceil(range.from / size) * size;
  const last = Math.floor(range.to / size) * size;
  if (first >= last) {
    split(range, level + 1, plan);
    return;
  }
  plan.buckets.push({ seconds, from: first, to: last });
  split({ from: range.from, to: first }, level + 1, plan);
  split({ from: last, to: range.to }, level + 1, plan);
}
