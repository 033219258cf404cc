/**
 * A least-recently-used cache bounded by entry count and by a byte budget (each entry says its size).
 * In-flight computations are shared: `getOrCompute` stores the promise, so concurrent requests for the
 * same key compute once; a rejected computation is not kept.
 */
export class LruCache<V> {
  readonly #entries = new Map<string, { value: Promise<V>; bytes: number }>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  getOrCompute(key: string, compute: () => Promise<V>): Promise<V> {
    const found = this.#entries.get(key);
    if (found) {
      this.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, found);
      return found.value;
    }
    this.misses++;
    const value = compute();
    const entry = { value, bytes: 0 };
    this.#entries.set(key, entry);
    value.then(
      (v) => {
        if (this.#entries.get(key) !== entry) return;
        entry.bytes = this.sizeOf(v);
        this.#bytes += entry.bytes;
        this.#evict();
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    this.#evict();
    return value;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#bytes <= this.maxBytes) return;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
  }
}
