/**
 * A histogram of observations over fixed upper bounds (Prometheus' buckets): observing adds to one
 * count and the sum, and allocates nothing, so it can sit on the request path.
 */
export class Histogram {
  /** per bucket, observations ≤ its bound and > the previous one's; the last slot is over every bound */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** latency buckets in seconds, from 5 ms to 10 s (Prometheus' client defaults) */
export const SECONDS_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
