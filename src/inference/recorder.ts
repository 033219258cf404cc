/**
 * What predict records of a request, behind one interface: before the model runs, the debugger's plan
 * (is this request a saved step, which debug outputs to fetch); after it, the capture (capture/record.ts)
 * and the step's tensors (debugger/hook.ts), each domain building its own rows, written in one group
 * commit with those of concurrent requests. `record` resolves after the commit, so an answered
 * request's capture survives a crash. It rejects with UnavailableError when the database takes no
 * writes (db/faults.ts), and with NotFoundError when the endpoint was deleted while the request was
 * in flight (its rows name an endpoint that no longer exists): neither fails the other requests of
 * the group.
 *
 * The writes waiting for their commit are bounded (MAX_QUEUED_WRITES): a database that stops
 * committing (an outage, a lock held elsewhere) makes requests refused with UNAVAILABLE instead of a
 * growing backlog of rows in memory. `admit` says so before the model runs; `record` enforces it.
 */
import { CAPTURE_TABLES, type CapturedRequest, captureOf, captureTableRows } from '../capture/record.ts';
import type { RandomSource } from '../capture/sampler.ts';
import { isForeignKeyViolation, isMissingRecord } from '../db/faults.ts';
import { GroupCommit, type GroupCommitStats } from '../db/group-commit.ts';
import type { TableRows } from '../db/insert.ts';
import type { Db } from '../db/prisma.ts';
import type { DebugHook, ImageTensors, StepPlan } from '../debugger/hook.ts';
import type { StepEncoder } from '../debugger/step-encoder.ts';
import { STEP_TABLE, stepTableRows, TENSOR_TABLE } from '../debugger/step-rows.ts';
import { type TensorCatalog, tensorCatalog } from '../debugger/tensor-names.ts';
import type { Endpoint } from '../endpoints/types.ts';
import { NotFoundError, UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ModelManifest } from '../models/manifest.ts';

/** what the model run needs to know before it runs; handed back to `record` */
export interface RecordPlan {
  readonly endpoint: Endpoint;
  /** debug-graph outputs to fetch for this image; undefined: the serving graph */
  readonly fetch: readonly string[] | undefined;
}

export interface RequestRecord {
  payload: CapturedRequest['payload'];
  prediction: CapturedRequest['prediction'];
  measured?: CapturedRequest['measured'];
  /** this image's debug-run tensors: given when the plan fetched outputs */
  tensors?: ImageTensors;
}

export interface Recorded {
  captureId: string | null;
  /** the capture's event id (Model Monitor's key for merging ground truth) */
  eventId: string | null;
  /** the debugger step saved, when one was */
  debugStep: number | null;
}

export interface Recorder {
  plan(endpoint: Endpoint, model: ModelManifest): Promise<RecordPlan>;
  /** throws UnavailableError when the writes (or, for a debug step, the encoder) are at their bound */
  admit(plan: RecordPlan): void;
  /** resolves once the request's rows are committed */
  record(plan: RecordPlan, request: RequestRecord): Promise<Recorded>;
}

export interface PredictionRecorderDeps {
  prisma: Db;
  logger: Logger;
  hook: DebugHook;
  /** the tensor names a stored includeRegex selects in a model (resolved once, then cached) */
  includedTensors: (model: ModelManifest, pattern: string) => Promise<ReadonlySet<string>>;
  /** the debug hook's encoder, whose backlog `admit` checks */
  encoder?: Pick<StepEncoder, 'saturated' | 'maxPending'>;
  /** requests' rows waiting for their commit, at most (default 512) */
  maxPendingWrites?: number;
  random?: RandomSource;
}

/** the capture writer as seen from the recorder, for /metrics */
export interface WriterStats {
  /** requests' rows handed to the group commit and not yet committed */
  readonly pending: number;
  readonly maxPending: number;
  /** the group commit's depth, lag, commit latency and failures */
  commitStats(): GroupCommitStats;
}

class Plan implements RecordPlan {
  constructor(
    readonly endpoint: Endpoint,
    readonly step: StepPlan | null,
    readonly catalog: TensorCatalog,
  ) {}

  get fetch(): readonly string[] | undefined {
    return this.step?.fetch;
  }
}

export class PredictionRecorder implements Recorder, WriterStats {
  readonly #commit: GroupCommit;
  readonly #catalogs = new WeakMap<ModelManifest, TensorCatalog>();
  #pending = 0;
  readonly maxPending: number;
  /** records not yet committed (or failed), for barrier() */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(private readonly deps: PredictionRecorderDeps) {
    this.maxPending = deps.maxPendingWrites ?? 512;
    // a step may name its capture, a tensor its step
    this.#commit = new GroupCommit(deps.prisma, deps.logger, {
      tables: [...CAPTURE_TABLES, STEP_TABLE.name, TENSOR_TABLE.name],
    });
  }

  async plan(endpoint: Endpoint, model: ModelManifest): Promise<RecordPlan> {
    let catalog = this.#catalogs.get(model);
    if (!catalog) this.#catalogs.set(model, (catalog = tensorCatalog(model)));
    const { enabled, includeRegex } = endpoint.debugHook;
    const included = enabled && includeRegex ? await this.deps.includedTensors(model, includeRegex) : null;
    // a saved step reserves its number with an UPDATE of the endpoint's row, gone when it was deleted
    const step = await this.deps.hook.plan(endpoint, catalog, included).catch((error: unknown) => {
      throw isMissingRecord(error) ? deletedInFlight(endpoint) : error;
    });
    return new Plan(endpoint, step, catalog);
  }

  admit(plan: RecordPlan): void {
    if (this.#pending >= this.maxPending) throw this.#writesFull();
    const encoder = this.deps.encoder;
    if (plan.fetch && encoder?.saturated) {
      throw new UnavailableError(
        `the debugger's tensor encoder holds its limit of ${encoder.maxPending} steps (MAX_QUEUED_STEPS): retry shortly`,
        1,
      );
    }
  }

  get pending(): number {
    return this.#pending;
  }

  #writesFull(): UnavailableError {
    return new UnavailableError(
      `the capture writer holds its limit of ${this.maxPending} uncommitted requests (MAX_QUEUED_WRITES): the database is not keeping up; retry shortly`,
      Math.min(30, Math.max(1, Math.ceil(this.#commit.stats().lagSeconds))),
    );
  }

  /** one request's rows to the group commit, within the bound; resolves once committed */
  async #write(rows: TableRows[]): Promise<void> {
    if (this.#pending >= this.maxPending) throw this.#writesFull();
    this.#pending++;
    try {
      await this.#commit.write(rows);
    } finally {
      this.#pending--;
    }
  }

  record(plan: RecordPlan, request: RequestRecord): Promise<Recorded> {
    // registered before anything is awaited: a capture stamped before a barrier() call is one it waits for
    const recording = this.#record(plan, request);
    const settled = recording.then(
      () => {},
      () => {},
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    return recording;
  }

  async #record(plan: RecordPlan, request: RequestRecord): Promise<Recorded> {
    if (!(plan instanceof Plan)) throw new Error('record() takes a plan from the same recorder');
    const { endpoint, step } = plan;
    const capture = captureOf(
      { endpoint, payload: request.payload, prediction: request.prediction, measured: request.measured },
      this.deps.random,
    );
    const rows: TableRows[] = captureTableRows(capture ? [capture] : []);
    if (step) {
      if (!request.tensors)
        throw new Error(`step ${step.step} of endpoint ${endpoint.name} was recorded without its tensors`);
      rows.push(
        ...stepTableRows(await this.deps.hook.rows(endpoint, step, capture?.id ?? null, plan.catalog, request.tensors)),
      );
    }
    if (rows.length) {
      try {
        await this.#write(rows);
      } catch (error) {
        if (isForeignKeyViolation(error)) throw deletedInFlight(endpoint);
        throw error;
      }
    }
    return { captureId: capture?.id ?? null, eventId: capture?.eventId ?? null, debugStep: step?.step ?? null };
  }

  /**
   * Resolves when every record started before the call has committed or failed, and not later records:
   * under steady traffic it still resolves, within one commit of the last of them. The inference service
   * stamps a prediction's inferenceTime and calls record() in one synchronous step, so a monitoring run
   * that calls this after its cut-off waits for every capture of this process stamped before it.
   */
  async barrier(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  /** resolves when everything recorded so far is committed (never, under steady traffic: see barrier()) */
  idle(): Promise<void> {
    return this.#commit.idle();
  }

  /** sizes of the committed groups */
  get groupSizes(): readonly number[] {
    return this.#commit.groupSizes;
  }

  /** the commit queue's depth, lag and commit latency */
  commitStats(): GroupCommitStats {
    return this.#commit.stats();
  }
}

function deletedInFlight(endpoint: Endpoint): NotFoundError {
  return new NotFoundError(
    'Endpoint',
    endpoint.name,
    `endpoint '${endpoint.name}' was deleted while this request was in flight: nothing of it was stored`,
  );
}
