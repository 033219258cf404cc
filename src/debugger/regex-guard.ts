/**
 * User regular expressions (a hook's includeRegex, a trial's tensorNames regex) run here, never on the
 * main thread: JavaScript's engine backtracks, and a pattern like `(a+)+$` can take longer than the
 * universe on a short name. A worker thread tests the pattern against a finite list of names under a
 * time limit; past it the worker is terminated (the only way to stop a running RegExp) and the pattern
 * is refused with a ValidationError. Syntax is checked on the calling thread first (parsing a pattern
 * is linear in its length, which is bounded).
 *
 * The worker's code is a string, so that it starts without tsx's loader: a restarted worker is ready in
 * tens of milliseconds instead of hundreds. Jobs run one at a time, each with its own limit.
 */
import { Worker } from 'node:worker_threads';
import { ValidationError } from '../errors.ts';

export const MAX_REGEX_LENGTH = 1000;
export const DEFAULT_REGEX_TIME_LIMIT_MS = 200;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, pattern, candidates }) => {
  try {
    const regex = new RegExp('^(?:' + pattern + ')');
    parentPort.postMessage({ id, matched: candidates.map((names) => names.some((name) => regex.test(name))) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
parentPort.postMessage('ready');
`;

interface Reply {
  id: number;
  matched?: boolean[];
  error?: string;
}

/** Compiles a user-supplied pattern on this thread to check its syntax, or explains why it cannot be used. */
export function checkRegexSyntax(pattern: string, field: string): void {
  if (pattern.length > MAX_REGEX_LENGTH)
    throw new ValidationError(field, `regex is longer than ${MAX_REGEX_LENGTH} characters`);
  try {
    // compiling does not run it; the anchored form is what the worker runs
    new RegExp(`^(?:${pattern})`);
  } catch (error) {
    throw new ValidationError(field, `Invalid regex '${pattern}': ${(error as Error).message}`);
  }
}

export class RegexGuard {
  #worker: Worker | undefined;
  #ready: Promise<Worker> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 0;
  #closed = false;

  constructor(readonly timeLimitMs = DEFAULT_REGEX_TIME_LIMIT_MS) {}

  /**
   * For each item, whether the pattern matches one of its names from the start (Python's re.match).
   * ValidationError for a pattern that is invalid or does not finish within the time limit.
   */
  async matchFromStart(pattern: string, candidates: readonly (readonly string[])[], field: string): Promise<boolean[]> {
    checkRegexSyntax(pattern, field);
    const job = this.#queue.then(() => this.#run(pattern, candidates, field));
    this.#queue = job.catch(() => undefined);
    return job;
  }

  /** the names the pattern matches from the start */
  async filter(pattern: string, names: readonly string[], field: string): Promise<string[]> {
    const matched = await this.matchFromStart(
      pattern,
      names.map((n) => [n]),
      field,
    );
    return names.filter((_, i) => matched[i]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    await worker?.terminate();
  }

  async #run(pattern: string, candidates: readonly (readonly string[])[], field: string): Promise<boolean[]> {
    if (this.#closed) throw new Error('the regex guard is closed');
    const worker = await this.#start();
    const id = this.#nextId++;
    return new Promise<boolean[]>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      const onMessage = (reply: Reply) => {
        if (reply.id !== id) return;
        finish();
        if (reply.matched) resolve(reply.matched);
        else reject(new ValidationError(field, `Invalid regex '${pattern}': ${reply.error ?? 'it could not be run'}`));
      };
      const onError = (error: Error) => {
        finish();
        this.#discard(worker);
        reject(error);
      };
      const timer = setTimeout(() => {
        finish();
        this.#discard(worker);
        reject(
          new ValidationError(
            field,
            `regex '${pattern}' did not finish within ${this.timeLimitMs} ms on ${candidates.length} tensor name(s): it backtracks catastrophically; simplify it (no nested quantifiers such as (a+)+)`,
          ),
        );
      }, this.timeLimitMs);
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.postMessage({ id, pattern, candidates });
    });
  }

  #start(): Promise<Worker> {
    if (this.#ready) return this.#ready;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // the guard's worker must not keep the process alive
    worker.unref();
    this.#worker = worker;
    this.#ready = new Promise<Worker>((resolve, reject) => {
      worker.once('message', () => resolve(worker));
      worker.once('error', reject);
    });
    this.#ready.catch(() => this.#discard(worker));
    return this.#ready;
  }

  /** a worker stuck in a pattern (or failed): terminated, and the next job starts a fresh one */
  #discard(worker: Worker): void {
    if (this.#worker === worker) {
      this.#worker = undefined;
      this.#ready = undefined;
    }
    void worker.terminate();
  }
}
