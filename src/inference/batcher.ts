/**
 * Dynamic batching: concurrent submissions are gathered into one run, up to `maxSize` items or
 * `maxWaitMs` after the first one arrives. While a run is in flight, new items queue up and go out
 * together as soon as it finishes, so under load batches grow by themselves and at low load an item
 * waits at most `maxWaitMs`.
 */
export interface BatcherOptions {
  maxSize: number;
  maxWaitMs: number;
  /** runs allowed in flight at once (onnxruntime parallelises inside one run already) */
  maxConcurrentRuns?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class DynamicBatcher<I, O> {
  #queue: Pending<I, O>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running = 0;
  readonly #maxConcurrent: number;
  /** sizes of the batches run so far, for stats and tests */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
  ) {
    this.#maxConcurrent = options.maxConcurrentRuns ?? 1;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running >= this.#maxConcurrent || this.#queue.length === 0) return;
    if (this.#queue.length >= this.options.maxSize || this.options.maxWaitMs === 0) {
      this.#flush();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => this.#flush(), this.options.maxWaitMs);
    }
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running >= this.#maxConcurrent || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.options.maxSize);
    this.#running++;
    this.batchSizes.push(batch.length);
    if (this.batchSizes.length > 10_000) this.batchSizes.splice(0, 5_000);
    this.runBatch(batch.map((p) => p.item))
      .then(
        (outputs) => {
          if (outputs.length !== batch.length) {
            const error = new Error(`batch run returned ${outputs.length} results for ${batch.length} items`);
            batch.forEach((p) => p.reject(error));
          } else {
            batch.forEach((p, i) => p.resolve(outputs[i]!));
          }
        },
        (error: unknown) => batch.forEach((p) => p.reject(error)),
      )
      .finally(() => {
        this.#running--;
        // whatever queued during the run has waited already: send it without a further wait
        if (this.#queue.length) this.#flush();
      });
  }
}
