/**
 * What was counted over a window of predictions — by the database over captures (store.ts), or here
 * over predictions made in memory (a baseline from a directory of images).
 */

/** Confidence buckets are HISTOGRAM_BUCKETS equal slices of [0, 1]. */
export const HISTOGRAM_BUCKETS = 1000;

export interface WindowCounts {
  recordCount: number;
  /** predictedClass → count (rows with a class) */
  classCounts: Map<number, number>;
  /** rows without a predicted class or without a confidence: outputs that could not be read */
  missingCount: number;
  /** rows with a confidence below the low-confidence threshold asked for */
  lowConfidenceCount: number;
  confidence: {
    count: number;
    sum: number;
    sumSquares: number;
    min: number | null;
    max: number | null;
    histogram: number[];
  };
}

export function emptyCounts(): WindowCounts {
  return {
    recordCount: 0,
    classCounts: new Map(),
    missingCount: 0,
    lowConfidenceCount: 0,
    confidence: {
      count: 0,
      sum: 0,
      sumSquares: 0,
      min: null,
      max: null,
      histogram: new Array<number>(HISTOGRAM_BUCKETS).fill(0),
    },
  };
}

/** The same counts over predictions made in memory (a baseline from a directory of images). */
export function countPredictions(
  predictions: Iterable<{ classId: number; confidence: number } | null>,
  lowConfidenceThreshold = 0.5,
): WindowCounts {
  const counts = emptyCounts();
  const c = counts.confidence;
  for (const p of predictions) {
    counts.recordCount++;
    if (!p) {
      counts.missingCount++;
      continue;
    }
    counts.classCounts.set(p.classId, (counts.classCounts.get(p.classId) ?? 0) + 1);
    if (p.confidence < lowConfidenceThreshold) counts.lowConfidenceCount++;
    const bucket = Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, Math.floor(p.confidence * HISTOGRAM_BUCKETS)));
    c.histogram[bucket]!++;
    c.count++;
    c.sum += p.confidence;
    c.sumSquares += p.confidence * p.confidence;
    c.min = c.min === null ? p.confidence : Math.min(c.min, p.confidence);
    c.max = c.max === null ? p.confidence : Math.max(c.max, p.confidence);
  }
  return counts;
}
