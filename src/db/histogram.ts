/**
 * A fixed-bucket histogram in Prometheus's shape: cumulative counts per upper bound (`le`), a sum and
 * a count. Observing is a short loop over the bounds, cheap enough for every commit.
 */
export interface HistogramSnapshot {
  /** the buckets' upper bounds, ascending (the implicit last one is +Inf, whose count is `count`) */
  readonly upperBounds: readonly number[];
  /** observations ≤ each upper bound */
  readonly cumulativeCounts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(upperBounds: readonly number[]) {
    this.#bounds = [...upperBounds].sort((a, b) => a - b);
    this.#counts = this.#bounds.map(() => 0);
  }

  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = this.#bounds.length - 1; i >= 0 && value <= this.#bounds[i]!; i--) this.#counts[i]!++;
  }

  snapshot(): HistogramSnapshot {
    return { upperBounds: this.#bounds, cumulativeCounts: [...this.#counts], sum: this.#sum, count: this.#count };
  }
}
