/**
 * Encodes debug steps' tensors on a worker thread. Converting ~1M floats a step to sparse halves and
 * Huffman-coding them takes ~10 ms of CPU, and starting 20-odd zlib jobs from the main thread costs
 * ~0.2 ms each there; on the main thread, which also runs onnxruntime and every request, that time
 * would hold up all the other requests.
 *
 * Steps are gathered until the end of the current macrotask (a batch's requests all reach the hook in
 * the same one) and sent together, their floats' ArrayBuffers transferred, not copied: a debug batch's
 * outputs are one buffer per output for all its images, ~3.4 MB an image. The caller gives those
 * buffers up — views on them read as empty afterwards — which the hook can, since a request's tensors
 * are not read again once handed over. The blobs come back in one transferred buffer per step; their
 * bytes are encodeTensor's.
 *
 * Steps waiting for or in encoding are bounded (`maxPending`, MAX_QUEUED_STEPS): each holds its
 * outputs (~3.4 MB an image) until encoded, so a backlog is memory. Beyond the bound `encode` refuses
 * with UNAVAILABLE; predict asks `saturated` before running a debug step, so that it refuses before the
 * debug run rather than after it.
 */
import type { Worker } from 'node:worker_threads';
import { UnavailableError } from '../errors.ts';
import { startTypeScriptWorker } from '../worker-threads.ts';
import type { TensorEncoding } from './encoding.ts';

export interface TensorToEncode {
  values: Float32Array;
  encoding: TensorEncoding;
}

/** a tensor in a request: `length` floats at `byteOffset` of buffers[buffer] */
export interface TensorRef {
  buffer: number;
  byteOffset: number;
  length: number;
  encoding: TensorEncoding;
}

/** what goes to the worker: the distinct buffers once, and each step's tensors as references */
export interface EncodeRequest {
  id: number;
  buffers: ArrayBuffer[];
  steps: TensorRef[][];
}

/** what comes back: per step, its blobs back to back, or the error */
export interface EncodeReply {
  id: number;
  steps: ({ bytes: Uint8Array; lengths: number[] } | { error: string })[];
}

interface Job {
  tensors: readonly TensorToEncode[];
  /** each view's length when handed over: a buffer detached meanwhile shows as a shorter view */
  lengths: number[];
  resolve: (blobs: Uint8Array[]) => void;
  reject: (error: Error) => void;
}

export interface StepEncoderOptions {
  /** steps queued or in flight at most; more are refused with UnavailableError */
  maxPending?: number;
}

export class StepEncoder {
  #worker: Worker | undefined;
  #closed = false;
  #nextId = 0;
  #queued: Job[] = [];
  readonly #inFlight = new Map<number, Job[]>();
  /** steps queued or in flight */
  #pending = 0;
  readonly maxPending: number;

  constructor(options: StepEncoderOptions = {}) {
    this.maxPending = options.maxPending ?? 64;
  }

  /** steps waiting for the worker or being encoded */
  get pending(): number {
    return this.#pending;
  }

  /** true when one more step would be refused */
  get saturated(): boolean {
    return this.#pending >= this.maxPending;
  }

  /** the tensors' ArrayBuffers are transferred to the worker at the end of this macrotask */
  encode(tensors: readonly TensorToEncode[]): Promise<Uint8Array[]> {
    if (this.#closed) return Promise.reject(new Error('the tensor encoder is closed'));
    if (this.saturated) {
      return Promise.reject(
        new UnavailableError(
          `the debugger's tensor encoder holds its limit of ${this.maxPending} steps (MAX_QUEUED_STEPS): retry shortly`,
          1,
        ),
      );
    }
    this.#pending++;
    return new Promise<Uint8Array[]>((resolve, reject) => {
      if (!this.#queued.length) setImmediate(() => this.#flush());
      this.#queued.push({ tensors, lengths: tensors.map((t) => t.values.length), resolve, reject });
    }).finally(() => this.#pending--);
  }

  /** stops the worker; steps queued or in flight are rejected */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
    this.#failAll(new Error('the tensor encoder is closed'));
  }

  #flush(): void {
    const jobs = this.#queued.splice(0);
    if (this.#closed) {
      for (const job of jobs) job.reject(new Error('the tensor encoder is closed'));
      return;
    }
    const sendable = jobs.filter((job) => {
      const detached = job.tensors.some((t, i) => t.values.length !== job.lengths[i]);
      if (detached) job.reject(new Error('a tensor buffer was transferred before its step was encoded'));
      return !detached;
    });
    if (!sendable.length) return;
    const buffers: ArrayBuffer[] = [];
    const index = new Map<ArrayBufferLike, number>();
    const steps = sendable.map((job) =>
      job.tensors.map((t): TensorRef => {
        let buffer = index.get(t.values.buffer);
        if (buffer === undefined) {
          buffer = buffers.push(ownBuffer(t.values)) - 1;
          index.set(t.values.buffer, buffer);
        }
        return { buffer, byteOffset: t.values.byteOffset, length: t.values.length, encoding: t.encoding };
      }),
    );
    const id = this.#nextId++;
    this.#inFlight.set(id, sendable);
    const request: EncodeRequest = { id, buffers, steps };
    try {
      this.#started().postMessage(request, buffers);
    } catch (error) {
      this.#inFlight.delete(id);
      for (const job of sendable) job.reject(error as Error);
    }
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startTypeScriptWorker(new URL('./step-encoder-worker.ts', import.meta.url));
    worker.unref(); // an idle encoder does not keep the process alive
    worker.on('message', (reply: EncodeReply) => this.#settle(reply));
    worker.on('error', (error) => this.#failAll(error));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(new Error(`tensor encoder worker exited with code ${code}`));
    });
    this.#worker = worker;
    return worker;
  }

  #settle(reply: EncodeReply): void {
    const jobs = this.#inFlight.get(reply.id);
    if (!jobs) return;
    this.#inFlight.delete(reply.id);
    jobs.forEach((job, i) => {
      const step = reply.steps[i];
      if (!step || 'error' in step) {
        job.reject(new Error(`tensor encoding failed: ${step ? step.error : 'no reply'}`));
        return;
      }
      const blobs: Uint8Array[] = [];
      let offset = 0;
      for (const length of step.lengths) {
        blobs.push(step.bytes.subarray(offset, offset + length));
        offset += length;
      }
      job.resolve(blobs);
    });
  }

  #failAll(error: Error): void {
    for (const jobs of this.#inFlight.values()) for (const job of jobs) job.reject(error);
    this.#inFlight.clear();
  }
}

/**
 * The buffer to transfer for a view: its own, unless that cannot move (a SharedArrayBuffer, or what
 * may be a slab of Node's Buffer pool, which other Buffers share); then a copy of the whole buffer, so
 * that every view on it keeps its offset.
 */
function ownBuffer(values: Float32Array): ArrayBuffer {
  const buffer = values.buffer;
  if (buffer instanceof ArrayBuffer && buffer.byteLength !== Buffer.poolSize) return buffer;
  return new Uint8Array(buffer).slice().buffer;
}
