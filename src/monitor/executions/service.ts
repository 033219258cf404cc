/**
 * Monitoring executions. Each covers the window [end of the schedule's previous execution (or its
 * endpoint's first capture), the moment it runs): consecutive windows tile, with no gap and no
 * overlap. Only the holder of the schedule's lease runs one, so two can never read the same previous
 * end; the unique (scheduleId, windowEnd) backs that up.
 *
 * run: lease (renewed while the run works) → fail executions a stopped process left InProgress →
 * window, ending at the cut-off (the moment the run starts) → InProgress row → wait for the captures
 * stamped before the cut-off to commit → counts in SQL → checks → violations, metrics and status in
 * one transaction (only while the execution is still InProgress) → alert if violations.
 *
 * The wait is bounded under any traffic: this process's captures stamped before the cut-off are the
 * ones its recorder has in flight at the barrier (a capture is stamped and handed to the recorder in
 * one synchronous step), so the barrier waits for those and not for captures that come after; other
 * replicas' captures get `commitGraceMs` after the cut-off to commit.
 *
 * A run stops early when its lease is lost (it writes nothing: another replica marks the execution
 * failed and covers its window) or when the server shuts down (it marks the execution failed and
 * releases the lease, so that another replica runs the schedule without waiting for the lease to expire).
 */

import { randomUUID } from 'node:crypto';
import type { PubSub } from 'graphql-yoga';
import type { CaptureFilter } from '../../capture/queries.ts';
import type { EndpointLookup } from '../../endpoints/types.ts';
import { ConflictError, NotFoundError, ValidationError, VigilError } from '../../errors.ts';
import type { LabelledWindows } from '../../groundtruth/types.ts';
import { type Logger, logUnexpected } from '../../logger.ts';
import type { ModelCatalog } from '../../models/catalog.ts';
import { pageSize } from '../../paging.ts';
import type { EventMap } from '../../pubsub/events.ts';
import { alertOf, publishAlert } from '../alerts/publish.ts';
import { requireAccuracy } from '../baselines/accuracy.ts';
import { baselineView } from '../baselines/drift-view.ts';
import { requireInputProfile } from '../baselines/input-profile.ts';
import { endpointBaseline } from '../baselines/lookup.ts';
import { buildStatistics } from '../baselines/statistics-json.ts';
import type { BaselineStore } from '../baselines/store.ts';
import type { Statistics } from '../baselines/types.ts';
import { defaultChecks, mergeChecks, validateChecks } from '../checks/config.ts';
import { type ExternalChecks, failedChecksNote } from '../checks/external/runner.ts';
import { runChecks } from '../checks/index.ts';
import { inputDriftCheck } from '../checks/input-drift.ts';
import type { ChecksConfig, ChecksInput, Violation } from '../checks/types.ts';
import type { MetricPoint } from '../metrics/types.ts';
import { evaluateModelQuality } from '../quality/evaluate.ts';
import { nextRun, parseCron } from '../schedules/cron.ts';
import { HeldLease, RunStopped, type StopReason } from '../schedules/lease.ts';
import type { ScheduleStore } from '../schedules/store.ts';
import type { ScheduleRecord } from '../schedules/types.ts';
import type { InputSampleStore } from '../windows/input-sample.ts';
import type { WindowStore } from '../windows/store.ts';
import { pause, untilAborted } from './abortable.ts';
import type { ExecutionStore } from './store.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionTrigger } from './types.ts';

export interface ExecutionServiceDeps {
  /** the schedules run, and their leases */
  schedules: Pick<ScheduleStore, 'get' | 'getByName' | 'claim' | 'renew' | 'release'>;
  /** the baselines the drift check compares with */
  baselines: Pick<BaselineStore, 'get' | 'getByName'>;
  /** an execution's endpoint: its capture mode */
  endpoints: EndpointLookup;
  executions: ExecutionStore;
  /** counts each window */
  windows: Pick<WindowStore, 'count' | 'firstCaptureTime'>;
  /** a window's sample of inputs, for the input-drift check */
  inputs: Pick<InputSampleStore, 'sample'>;
  /** the labelled captures of a window, for the model-quality check */
  labelled: LabelledWindows;
  /** runs the scripts of CHECKS_DIR a job names */
  external: Pick<ExternalChecks, 'validate' | 'run'>;
  pubsub: PubSub<EventMap>;
  /** the models, whose labels name the classes */
  models: Pick<ModelCatalog, 'label' | 'labels'>;
  logger: Logger;
  /** identifies this process in leases */
  instanceId: string;
  /** how long a lease lasts unless renewed (a run renews it every third of this) */
  leaseMs?: number;
  /** how long a manual run waits for a run in progress to finish */
  manualWaitMs?: number;
  /** resolves once every capture this process stamped before the call is committed (or has failed) */
  barrier?: () => Promise<void>;
  /** how long after its cut-off a run waits before counting, for other replicas' captures to commit */
  commitGraceMs?: number;
  /** test only (VIGIL_TEST_EXECUTION_DELAY_MS): a pause inside every run, while its execution is InProgress */
  testDelayMs?: number;
  clock?: () => Date;
}

/** the message of an execution stopped by its server's shutdown */
export const SHUT_DOWN =
  'Failed: the replica running it was shut down before it finished; the next execution covers its window';

/** a run in progress, and how to stop it */
interface Run {
  abort: () => void;
  done: Promise<unknown>;
}

/** what an execution runs: a schedule's configuration, or an ad-hoc job's */
interface Job {
  /** the schedule's; null for an ad-hoc job */
  name: string | null;
  endpointId: string;
  model: string;
  checks: ChecksConfig;
  baselineId: string | null;
}

export interface MonitoringJobInput {
  endpoint: string;
  /** inclusive */
  from: Date;
  /** exclusive, not after now */
  to: Date;
  checks?: ChecksInput | null;
  /** a baseline of the endpoint, by name or id: the drift check compares with it */
  baseline?: string | null;
}

/** the filter narrowed to [windowStart, windowEnd) (an empty range when they do not meet) */
export function withinWindow(
  filter: CaptureFilter,
  window: Pick<ExecutionRecord, 'windowStart' | 'windowEnd'>,
): CaptureFilter {
  const { windowStart, windowEnd } = window;
  const from = filter.from && filter.from > windowStart ? filter.from : windowStart;
  const to = filter.to && filter.to < windowEnd ? filter.to : windowEnd;
  return { ...filter, execution: null, from, to: new Date(Math.max(to.getTime(), from.getTime())) };
}

/** the longest window an ad-hoc run may cover: the longest retention there is */
export const MAX_JOB_WINDOW_DAYS = 3650;

/** from < to ≤ now, at most MAX_JOB_WINDOW_DAYS apart */
function validateJobWindow(from: Date, to: Date, now: Date): void {
  if (to.getTime() <= from.getTime())
    throw new ValidationError('input.to', `to (${to.toISOString()}) must be after from (${from.toISOString()})`);
  if (to.getTime() > now.getTime())
    throw new ValidationError(
      'input.to',
      `to (${to.toISOString()}) is in the future: a window is run once its captures exist (now ${now.toISOString()})`,
    );
  if (to.getTime() - from.getTime() > MAX_JOB_WINDOW_DAYS * 86_400_000)
    throw new ValidationError('input.from', `a window covers at most ${MAX_JOB_WINDOW_DAYS} days`);
}

export class ExecutionService {
  readonly #leaseMs: number;
  readonly #clock: () => Date;
  readonly #running = new Set<Run>();
  #closing = false;

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.#leaseMs = deps.leaseMs ?? 5 * 60_000;
    this.#clock = deps.clock ?? (() => new Date());
  }

  /** Runs the schedule now; waits a while for a run in progress, then ConflictError. */
  async runNow(scheduleName: string): Promise<ExecutionRecord> {
    const schedule = await this.deps.schedules.getByName(scheduleName);
    if (!schedule) throw new NotFoundError('MonitoringSchedule', scheduleName);
    const owner = this.#owner();
    const deadline = Date.now() + (this.deps.manualWaitMs ?? 10_000);
    for (;;) {
      if (this.#closing)
        throw new ConflictError(`Schedule '${scheduleName}' was not run: this replica is shutting down`);
      const claimedAt = this.#clock();
      if (await this.deps.schedules.claim(schedule.id, owner, claimedAt, this.#leaseMs, false)) {
        const execution = await this.#underLease(schedule.id, owner, claimedAt, async (signal) => {
          // read again under the lease: the schedule may have changed (or gone) while this waited
          const current = await this.deps.schedules.get(schedule.id);
          if (!current) throw new NotFoundError('MonitoringSchedule', scheduleName);
          return { execution: await this.#execute(current, 'MANUAL', signal) };
        });
        if (!execution)
          throw new ConflictError(`Schedule '${scheduleName}' was not run: this replica is shutting down`);
        return execution;
      }
      if (Date.now() > deadline) {
        const current = await this.deps.schedules.get(schedule.id);
        if (!current) throw new NotFoundError('MonitoringSchedule', scheduleName);
        throw new ConflictError(
          `Schedule '${scheduleName}' is being run by ${current.leaseOwner ?? 'another process'} (lease until ${current.leaseExpiresAt?.toISOString() ?? '?'})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The scheduler's run: only if the schedule is due and this process wins its lease; null otherwise. */
  async runIfDue(scheduleId: string): Promise<ExecutionRecord | null> {
    if (this.#closing) return null;
    const owner = this.#owner();
    const claimedAt = this.#clock();
    if (!(await this.deps.schedules.claim(scheduleId, owner, claimedAt, this.#leaseMs, true))) return null;
    return this.#underLease(scheduleId, owner, claimedAt, async (signal) => {
      const schedule = await this.deps.schedules.get(scheduleId);
      if (!schedule) return { execution: null };
      const execution = await this.#execute(schedule, 'SCHEDULED', signal);
      // missed runs coalesce: the next run is the first one after now, not after the one that was due;
      // a run that was stopped keeps its due time, so that a replica runs it again at once
      return { execution, next: signal.aborted ? undefined : nextRun(parseCron(schedule.cron), this.#clock()) };
    });
  }

  /**
   * Marks failed the executions whose run stopped without finishing them (their lease has expired or
   * was released): the scheduler calls it on every tick, so such an execution shows Failed within a
   * tick of its lease's expiry, and its window is covered by the schedule's next execution.
   */
  async failOrphaned(): Promise<number> {
    const now = this.#clock();
    const failed = await this.deps.executions.failOrphaned(now);
    if (failed.length)
      this.deps.logger.warn('marked executions of stopped runs failed', {
        executions: failed.map((e) => `${e.scheduleName}/${e.id}`),
      });
    // ad-hoc runs hold no lease: one still unfinished a lease's length after it started has stopped
    const stale = await this.deps.executions.failStaleAdHoc(now, this.#leaseMs);
    if (stale) this.deps.logger.warn('marked abandoned ad-hoc executions failed', { count: stale });
    return failed.length + stale;
  }

  /**
   * Refuses new runs, waits up to `timeoutMs` for the runs in progress to finish, then stops the rest:
   * each marks its execution failed and releases its lease (see SHUT_DOWN).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#closing = true;
    if (!this.#running.size) return;
    const all = Promise.allSettled([...this.#running].map((run) => run.done));
    if (await settlesWithin(all, timeoutMs)) return;
    this.deps.logger.warn('stopping monitoring runs still in progress at shutdown', { runs: this.#running.size });
    for (const run of this.#running) run.abort();
    // stopping takes a write or two; past that, the lease expires and another replica takes over
    await settlesWithin(all, STOPPING_MS);
  }

  get(id: string): Promise<ExecutionRecord | null> {
    return this.deps.executions.get(id);
  }

  /**
   * A schedule's executions, or an endpoint's (its schedules' and its ad-hoc ones; `trigger` narrows),
   * newest first. Exactly one of schedule and endpoint; NotFoundError for an unknown one; first: 1–500,
   * default 20.
   */
  async list(
    owner: { schedule?: string | null; endpoint?: string | null },
    options: { status?: ExecutionStatus | null; trigger?: ExecutionTrigger | null; first?: number | null } = {},
  ): Promise<ExecutionRecord[]> {
    const take = pageSize(options.first, 'first', 20);
    const filter = { status: options.status, trigger: options.trigger, take };
    if (owner.schedule && owner.endpoint) throw new ValidationError('endpoint', 'give schedule or endpoint, not both');
    if (owner.schedule) {
      const schedule = await this.deps.schedules.getByName(owner.schedule);
      if (!schedule) throw new NotFoundError('MonitoringSchedule', owner.schedule);
      return this.deps.executions.list({ scheduleId: schedule.id }, filter);
    }
    if (!owner.endpoint) throw new ValidationError('schedule', 'give a schedule or an endpoint');
    const endpoint = await this.deps.endpoints.require(owner.endpoint);
    return this.deps.executions.list({ endpointId: endpoint.id }, filter);
  }

  /**
   * A captures filter narrowed to the execution's window (the link from an execution to its captures):
   * NotFoundError for an unknown execution, ValidationError for one of another endpoint.
   */
  async capturesFilter(executionId: string, endpointName: string, filter: CaptureFilter): Promise<CaptureFilter> {
    const execution = await this.deps.executions.get(executionId);
    if (!execution) throw new NotFoundError('MonitoringExecution', executionId);
    if (execution.endpointName !== endpointName)
      throw new ValidationError(
        'filter.execution',
        `execution ${executionId} ran over endpoint '${execution.endpointName}', not '${endpointName}'`,
      );
    return withinWindow(filter, execution);
  }

  /** the execution's statistics.json: undefined for an unknown execution, null until it has finished */
  statistics(id: string): Promise<Statistics | null | undefined> {
    return this.deps.executions.statistics(id);
  }

  /** several executions by id, in one query (for DataLoaders) */
  getMany(ids: readonly string[]): Promise<Map<string, ExecutionRecord>> {
    return this.deps.executions.getMany(ids);
  }

  violations(executionId: string): Promise<Violation[]> {
    return this.deps.executions.violations(executionId);
  }

  violationsOf(executionIds: readonly string[]): Promise<Map<string, Violation[]>> {
    return this.deps.executions.violationsOf(executionIds);
  }

  metricsOf(executionIds: readonly string[]): Promise<Map<string, MetricPoint[]>> {
    return this.deps.executions.metricsOf(executionIds);
  }

  /** The class names of the execution's model (undefined for an unknown model). */
  labels(model: string): readonly string[] | undefined {
    return this.deps.models.labels(model);
  }

  /**
   * Runs `work` while holding (and renewing) the lease `owner` claimed, then releases it; null, without
   * running it, when stop() was called while the lease was being claimed.
   */
  async #underLease(
    scheduleId: string,
    owner: string,
    claimedAt: Date,
    work: (signal: AbortSignal) => Promise<{ execution: ExecutionRecord | null; next?: Date | null | undefined }>,
  ): Promise<ExecutionRecord | null> {
    if (this.#closing) {
      await this.deps.schedules.release(scheduleId, owner);
      return null;
    }
    const lease = new HeldLease({
      schedules: this.deps.schedules,
      logger: this.deps.logger,
      scheduleId,
      owner,
      leaseMs: this.#leaseMs,
      claimedAt,
      clock: this.#clock,
    });
    const done = (async () => {
      let next: Date | null | undefined;
      try {
        const result = await work(lease.signal);
        next = result.next;
        return result.execution;
      } finally {
        lease.stop();
        // a lost lease is left to expire: the scheduler's tick then marks the execution failed
        if (!(lease.signal.reason instanceof RunStopped && lease.signal.reason.reason === 'lease-lost'))
          await this.deps.schedules.release(scheduleId, owner, next);
      }
    })();
    const run: Run = { abort: () => lease.abort('shutdown'), done };
    this.#running.add(run);
    try {
      return await done;
    } finally {
      this.#running.delete(run);
    }
  }

  async #execute(schedule: ScheduleRecord, trigger: ExecutionTrigger, signal: AbortSignal): Promise<ExecutionRecord> {
    const { executions, logger } = this.deps;
    // the cut-off: the window ends here
    const startedAt = this.#clock();
    const abandoned = await executions.failAbandoned(schedule.id, startedAt);
    if (abandoned) logger.warn('marked abandoned executions failed', { schedule: schedule.name, count: abandoned });

    const previousEnd = await executions.previousWindowEnd(schedule.id);
    // a clock behind the previous run's (another replica's) still moves the window forward
    const windowEnd = previousEnd && previousEnd >= startedAt ? new Date(previousEnd.getTime() + 1) : startedAt;
    const first = previousEnd ?? (await this.deps.windows.firstCaptureTime(schedule.endpointId)) ?? windowEnd;
    // biome-ignore lint/complexity/useMathMinMax: these are Dates; Math.min would turn them into numbers
    const windowStart = first > windowEnd ? windowEnd : first;

    const execution = await executions.start({
      scheduleId: schedule.id,
      scheduleName: schedule.name,
      endpointId: schedule.endpointId,
      endpointName: schedule.endpointName,
      model: schedule.model,
      trigger,
      windowStart,
      windowEnd,
      startedAt,
    });
    if (!execution)
      throw new ConflictError(
        `Schedule '${schedule.name}' already has an execution ending at ${windowEnd.toISOString()}`,
      );
    return this.#evaluate(execution, schedule, signal);
  }

  /**
   * Runs the checks over any window of an endpoint's captures, now, and records it as an AD_HOC
   * execution: it belongs to no schedule, so no schedule's windows move, and it alerts nobody. Its
   * counts, violations, metrics and statistics are an execution's like any other.
   */
  async runJob(input: MonitoringJobInput): Promise<ExecutionRecord> {
    const endpoint = await this.deps.endpoints.require(input.endpoint);
    const now = this.#clock();
    validateJobWindow(input.from, input.to, now);
    const baseline = input.baseline ? await endpointBaseline(this.deps.baselines, endpoint, input.baseline) : null;
    const checks = mergeChecks(defaultChecks(baseline !== null), input.checks);
    validateChecks(checks, baseline !== null);
    requireAccuracy(checks, baseline);
    requireInputProfile(checks, baseline);
    await this.deps.external.validate(checks.external);
    const execution = await this.deps.executions.start({
      scheduleId: null,
      scheduleName: null,
      endpointId: endpoint.id,
      endpointName: endpoint.name,
      model: endpoint.model,
      trigger: 'AD_HOC',
      windowStart: input.from,
      windowEnd: input.to,
      startedAt: now,
    });
    if (!execution) throw new Error('an ad-hoc execution collided with another');
    // shutting down: recorded as stopped by it, like a scheduled run that shutdown interrupts
    if (this.#closing) return (await this.deps.executions.fail(execution.id, SHUT_DOWN, this.#clock())) ?? execution;
    // no lease to lose: only shutdown stops it (stop() aborts it like a scheduled run)
    const controller = new AbortController();
    const done = this.#evaluate(
      execution,
      { name: null, endpointId: endpoint.id, model: endpoint.model, checks, baselineId: baseline?.id ?? null },
      controller.signal,
    );
    const run: Run = { abort: () => controller.abort(new RunStopped('shutdown')), done };
    this.#running.add(run);
    try {
      return await done;
    } finally {
      this.#running.delete(run);
    }
  }

  /**
   * An execution's work, the same for scheduled, manual and ad-hoc runs: wait for the window's
   * captures → counts in SQL → checks → violations, metrics, statistics and status in one transaction
   * (only while still InProgress) → alert if a schedule's execution has violations.
   */
  async #evaluate(execution: ExecutionRecord, job: Job, signal: AbortSignal): Promise<ExecutionRecord> {
    const { executions, logger } = this.deps;
    const { windowStart, windowEnd, startedAt } = execution;
    const name = job.name ?? `ad hoc ${execution.id}`;
    try {
      await this.#settle(windowEnd, signal);
      if (this.deps.testDelayMs) await pause(this.deps.testDelayMs, signal);
      const counts = await untilAborted(
        this.deps.windows.count({
          endpointId: job.endpointId,
          from: windowStart,
          to: windowEnd,
          lowConfidenceThreshold: job.checks.lowConfidence.confidenceThreshold,
        }),
        signal,
      );
      const baseline = job.baselineId ? await untilAborted(this.deps.baselines.get(job.baselineId), signal) : null;
      const endpoint = await untilAborted(this.deps.endpoints.get(execution.endpointName), signal);
      const models = this.deps.models;
      const outcome = runChecks({
        counts,
        checks: job.checks,
        label: (k) => models.label(job.model, k),
        classCount: models.labels(job.model)?.length ?? 0,
        baseline: baseline && baselineView(baseline.name, baseline.statistics, baseline.constraints),
        outputsCaptured: endpoint?.dataCapture.captureMode !== 'INPUT',
      });
      const quality = job.checks.modelQuality.enabled
        ? await untilAborted(
            evaluateModelQuality({
              labelled: this.deps.labelled,
              endpointId: job.endpointId,
              config: job.checks.modelQuality,
              windowStart,
              windowEnd,
              startedAt,
              baseline,
              label: (k) => models.label(job.model, k),
              minSampleSize: job.checks.minSampleSize,
            }),
            signal,
          )
        : null;
      const inputDrift =
        job.checks.inputDrift.enabled && baseline?.inputProfile
          ? inputDriftCheck({
              sample: await untilAborted(
                this.deps.inputs.sample(job.endpointId, windowStart, windowEnd, job.checks.inputDrift.maxSampleSize),
                signal,
              ),
              profile: baseline.inputProfile,
              baselineName: baseline.name,
              config: job.checks.inputDrift,
              minSampleSize: job.checks.minSampleSize,
            })
          : null;
      // the scripts judge whatever the window holds, as Model Monitor's containers do
      const external = await this.deps.external.run(
        job.checks.external,
        {
          executionId: execution.id,
          endpointName: execution.endpointName,
          scheduleName: job.name,
          windowStart,
          windowEnd,
          baseline: baseline && { statistics: baseline.statistics, constraints: baseline.constraints },
        },
        signal,
      );
      // model quality judges its own (shifted) window: its sample is the labelled captures there, so it
      // may judge a window too small for the data checks (and the other way round)
      const violations = [
        ...outcome.violations,
        ...(outcome.insufficientData === null ? (inputDrift?.violations ?? []) : []),
        ...(quality?.result.violations ?? []),
        ...external.violations,
      ];
      const judged =
        outcome.insufficientData === null || quality?.result.insufficientData === null || external.runs.length > 0;
      const metrics = {
        ...outcome.metrics,
        ...(outcome.insufficientData === null ? inputDrift?.metrics : undefined),
        ...quality?.result.metrics,
        ...external.metrics,
        ...(judged ? { violation_count: violations.length } : {}),
      };
      const insufficientData = outcome.insufficientData ?? quality?.result.insufficientData;
      const status: ExecutionStatus = violations.length ? 'CompletedWithViolations' : 'Completed';
      const failedNote = failedChecksNote(external.runs);
      const message = `${
        violations.length
          ? `CompletedWithViolations: ${violations[0]!.description}`
          : insufficientData
            ? `Completed: ${insufficientData}`
            : 'Completed: no violations'
      }${failedNote ? `; ${failedNote}` : ''}`;
      if (signal.aborted) throw signal.reason;
      const finished = await executions.finish(
        execution,
        {
          status,
          recordCount: counts.recordCount,
          classCounts: Object.fromEntries(
            [...counts.classCounts].sort((a, b) => a[0] - b[0]).map(([k, n]) => [String(k), n]),
          ),
          message,
          insufficientData: outcome.insufficientData !== null,
          statistics: buildStatistics(counts),
          violations,
          metrics,
          modelQuality: quality?.report ?? null,
          externalChecks: external.runs,
        },
        this.#clock(),
      );
      if (!finished) {
        logger.warn('monitoring execution was marked failed while it ran (its lease had expired): result dropped', {
          schedule: name,
          execution: execution.id,
        });
        return (await executions.get(execution.id)) ?? execution;
      }
      logger.info('monitoring execution finished', {
        schedule: name,
        trigger: execution.trigger,
        status,
        records: counts.recordCount,
        window: [windowStart.toISOString(), windowEnd.toISOString()],
        ms: Date.now() - startedAt.getTime(),
      });
      const alert = alertOf(finished, violations);
      if (alert) publishAlert(this.deps.pubsub, alert);
      return finished;
    } catch (error) {
      if (error instanceof RunStopped) return this.#stopped(name, execution, error.reason);
      // an expected failure's message is written for users; anything else stays in the log, under the id
      const message =
        error instanceof VigilError
          ? `Failed: ${error.message}`
          : `Failed: an internal error stopped the run (errorId ${logUnexpected(logger, 'monitoring execution failed', error, { schedule: name })})`;
      if (error instanceof VigilError) logger.warn('monitoring execution failed', { schedule: name, error });
      const failed = await executions.fail(execution.id, message, this.#clock());
      return failed ?? execution;
    }
  }

  /**
   * Waits until the captures stamped before the cut-off are committed: this process's (the recorder's
   * barrier) and, for `commitGraceMs` after the cut-off, other replicas'.
   */
  async #settle(cutoff: Date, signal: AbortSignal): Promise<void> {
    const graceLeft = cutoff.getTime() + (this.deps.commitGraceMs ?? 0) - this.#clock().getTime();
    await Promise.all([
      this.deps.barrier ? untilAborted(this.deps.barrier(), signal) : undefined,
      pause(graceLeft, signal),
    ]);
  }

  /** A stopped run: at shutdown it marks its execution failed; with its lease lost it writes nothing. */
  async #stopped(name: string, execution: ExecutionRecord, reason: StopReason): Promise<ExecutionRecord> {
    if (reason === 'shutdown') {
      this.deps.logger.warn('monitoring execution stopped by shutdown', { schedule: name, execution: execution.id });
      return (await this.deps.executions.fail(execution.id, SHUT_DOWN, this.#clock())) ?? execution;
    }
    this.deps.logger.warn('monitoring execution stopped: its lease was lost', {
      schedule: name,
      execution: execution.id,
    });
    return (await this.deps.executions.get(execution.id)) ?? execution;
  }

  #owner(): string {
    return `${this.deps.instanceId}:${randomUUID().slice(0, 8)}`;
  }
}

/** how long stop() waits for stopped runs to write their status and release their leases */
const STOPPING_MS = 2_000;

/** true when `promise` settles within `ms` */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
