/**
 * Dynamic batching: concurrent submissions are gathered into one run, up to `maxSize` items or
 * `maxWaitMs` after the first one arrives. While a run is in flight, new items queue up and go out
 * together as soon as it finishes, so under load batches grow by themselves and at low load an item
 * waits at most `maxWaitMs`.
 *
 * An item submitted with an AbortSignal (its client's request) leaves the queue when the signal
 * aborts, rejected with an AbortError, and never joins a run: a client that went away costs no
 * inference. How many items wait is `queued`; bounding it is the caller's admission decision
 * (inference/service.ts), taken before the work that leads here.
 */
export interface BatcherOptions {
  maxSize: number;
  maxWaitMs: number;
  /** runs allowed in flight at once (onnxruntime parallelises inside one run already) */
  maxConcurrentRuns?: number;
  /** called after each run with its size and duration (metrics) */
  onRun?: (size: number, seconds: number) => void;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class DynamicBatcher<I, O> {
  #queue: Pending<I, O>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running = 0;
  readonly #maxConcurrent: number;
  /** seconds one item of a run has taken lately (exponentially weighted), 0 before the first run */
  #secondsPerItem = 0;
  /** sizes of the batches run so far, for stats and tests */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
  ) {
    this.#maxConcurrent = options.maxConcurrentRuns ?? 1;
  }

  /** items waiting for a run */
  get queued(): number {
    return this.#queue.length;
  }

  /** recent run time per item, in seconds (0 until a run finished): what one more queued item costs */
  get secondsPerItem(): number {
    return this.#secondsPerItem;
  }

  submit(item: I, signal?: AbortSignal): Promise<O> {
    if (signal?.aborted) return Promise.reject(clientGone());
    return new Promise<O>((resolve, reject) => {
      const pending: Pending<I, O> = { item, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        pending.onAbort = () => this.#drop(pending);
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#queue.push(pending);
      this.#schedule();
    });
  }

  /** an item whose client went away, out of the queue before it runs */
  #drop(pending: Pending<I, O>): void {
    const at = this.#queue.indexOf(pending);
    if (at < 0) return; // already in a run
    this.#queue.splice(at, 1);
    pending.reject(clientGone());
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
    for (const p of batch) if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    this.#running++;
    this.batchSizes.push(batch.length);
    if (this.batchSizes.length > 10_000) this.batchSizes.splice(0, 5_000);
    const started = performance.now();
    this.runBatch(batch.map((p) => p.item))
      .then(
        (outputs) => {
          this.#ran(batch.length, (performance.now() - started) / 1000);
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
        // Whatever queued during the run has waited already: it goes without a further wait, but after
        // one turn of the event loop. onnxruntime runs on this thread, so chaining runs in microtasks
        // would starve I/O while work is queued: no request could arrive, no disconnect (whose item
        // should leave the queue) or signal be noticed.
        if (this.#queue.length) setImmediate(() => this.#flush());
      });
  }

  #ran(size: number, seconds: number): void {
    const perItem = seconds / size;
    this.#secondsPerItem = this.#secondsPerItem ? 0.8 * this.#secondsPerItem + 0.2 * perItem : perItem;
    this.options.onRun?.(size, seconds);
  }
}

/**
 * What work dropped for an aborted signal rejects with, whatever the signal's reason (a socket error, an
 * AbortError): the server treats an AbortError as a cancelled request, not as a failure to log.
 */
export function clientGone(): DOMException {
  return new DOMException('the client went away before its work ran', 'AbortError');
}
