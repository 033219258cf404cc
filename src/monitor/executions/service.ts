/**
 * Monitoring executions. Each covers the window [end of the schedule's previous execution (or its
 * endpoint's first capture), the moment it runs): consecutive windows tile, with no gap and no
 * overlap. Only the holder of the schedule's lease runs one, so two can never read the same previous
 * end; the unique (scheduleId, windowEnd) backs that up.
 *
 * run: lease → fail executions a stopped process left InProgress → window → InProgress row → counts
 * in SQL → checks → violations, metrics and status in one transaction → alert if violations.
 */

import { randomUUID } from 'node:crypto';
import type { PubSub } from 'graphql-yoga';
import { ConflictError, NotFoundError, VigilError } from '../../errors.ts';
import { type Logger, logUnexpected } from '../../logger.ts';
import type { ModelCatalog } from '../../models/catalog.ts';
import { pageSize } from '../../paging.ts';
import type { EventMap } from '../../pubsub/events.ts';
import { publishAlert, toAlert } from '../alerts/publish.ts';
import { baselineView } from '../baselines/drift-view.ts';
import type { BaselineStore } from '../baselines/store.ts';
import { runChecks } from '../checks/index.ts';
import type { Violation } from '../checks/types.ts';
import type { MetricPoint } from '../metrics/types.ts';
import { nextRun, parseCron } from '../schedules/cron.ts';
import type { ScheduleStore } from '../schedules/store.ts';
import type { ScheduleRecord } from '../schedules/types.ts';
import type { WindowStore } from '../windows/store.ts';
import type { ExecutionStore } from './store.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionTrigger } from './types.ts';

export interface ExecutionServiceDeps {
  /** the schedules run, and their leases */
  schedules: Pick<ScheduleStore, 'get' | 'getByName' | 'claim' | 'release'>;
  /** the baselines the drift check compares with */
  baselines: Pick<BaselineStore, 'get'>;
  executions: ExecutionStore;
  /** counts each window */
  windows: Pick<WindowStore, 'count' | 'firstCaptureTime'>;
  pubsub: PubSub<EventMap>;
  /** the models, whose labels name the classes */
  models: Pick<ModelCatalog, 'label' | 'labels'>;
  logger: Logger;
  /** identifies this process in leases */
  instanceId: string;
  /** how long a lease lasts if its holder stops without releasing it */
  leaseMs?: number;
  /** how long a manual run waits for a run in progress to finish */
  manualWaitMs?: number;
  /** resolves once this process's pending capture writes are committed */
  flush?: () => Promise<void>;
  clock?: () => Date;
}

export class ExecutionService {
  readonly #leaseMs: number;
  readonly #clock: () => Date;

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
    while (!(await this.deps.schedules.claim(schedule.id, owner, this.#clock(), this.#leaseMs, false))) {
      if (Date.now() > deadline) {
        const current = await this.deps.schedules.get(schedule.id);
        if (!current) throw new NotFoundError('MonitoringSchedule', scheduleName);
        throw new ConflictError(
          `Schedule '${scheduleName}' is being run by ${current.leaseOwner ?? 'another process'} (lease until ${current.leaseExpiresAt?.toISOString() ?? '?'})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try {
      // read again under the lease: the schedule may have changed (or gone) while this waited
      const current = await this.deps.schedules.get(schedule.id);
      if (!current) throw new NotFoundError('MonitoringSchedule', scheduleName);
      return await this.#execute(current, 'MANUAL');
    } finally {
      await this.deps.schedules.release(schedule.id, owner);
    }
  }

  /** The scheduler's run: only if the schedule is due and this process wins its lease; null otherwise. */
  async runIfDue(scheduleId: string): Promise<ExecutionRecord | null> {
    const owner = this.#owner();
    if (!(await this.deps.schedules.claim(scheduleId, owner, this.#clock(), this.#leaseMs, true))) return null;
    let next: Date | null = null;
    try {
      const schedule = await this.deps.schedules.get(scheduleId);
      if (!schedule) return null;
      try {
        return await this.#execute(schedule, 'SCHEDULED');
      } finally {
        // missed runs coalesce: the next run is the first one after now, not after the one that was due
        next = nextRun(parseCron(schedule.cron), this.#clock());
      }
    } finally {
      await this.deps.schedules.release(scheduleId, owner, next);
    }
  }

  get(id: string): Promise<ExecutionRecord | null> {
    return this.deps.executions.get(id);
  }

  /** a schedule's executions, newest first (NotFoundError for an unknown schedule; first: 1–500, default 20) */
  async list(
    scheduleName: string,
    options: { status?: ExecutionStatus | null; first?: number | null } = {},
  ): Promise<ExecutionRecord[]> {
    const take = pageSize(options.first, 'first', 20);
    const schedule = await this.deps.schedules.getByName(scheduleName);
    if (!schedule) throw new NotFoundError('MonitoringSchedule', scheduleName);
    return this.deps.executions.list(schedule.id, { status: options.status, take });
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

  async #execute(schedule: ScheduleRecord, trigger: ExecutionTrigger): Promise<ExecutionRecord> {
    const { executions, logger } = this.deps;
    const startedAt = this.#clock();
    const abandoned = await executions.failAbandoned(schedule.id, startedAt);
    if (abandoned) logger.warn('marked abandoned executions failed', { schedule: schedule.name, count: abandoned });

    const previousEnd = await executions.previousWindowEnd(schedule.id);
    // a clock behind the previous run's (another replica's) still moves the window forward
    const windowEnd = previousEnd && previousEnd >= startedAt ? new Date(previousEnd.getTime() + 1) : startedAt;
    const first = previousEnd ?? (await this.deps.windows.firstCaptureTime(schedule.endpointId)) ?? windowEnd;
    // biome-ignore lint/complexity/useMathMinMax: these are Dates; Math.min would turn them into numbers
    const windowStart = first > windowEnd ? windowEnd : first;

    const execution = await executions.start({ scheduleId: schedule.id, trigger, windowStart, windowEnd, startedAt });
    if (!execution)
      throw new ConflictError(
        `Schedule '${schedule.name}' already has an execution ending at ${windowEnd.toISOString()}`,
      );
    try {
      await this.deps.flush?.();
      const counts = await this.deps.windows.count({
        endpointId: schedule.endpointId,
        from: windowStart,
        to: windowEnd,
        lowConfidenceThreshold: schedule.checks.lowConfidence.confidenceThreshold,
      });
      const baseline = schedule.baselineId ? await this.deps.baselines.get(schedule.baselineId) : null;
      const models = this.deps.models;
      const outcome = runChecks({
        counts,
        checks: schedule.checks,
        label: (k) => models.label(schedule.model, k),
        classCount: models.labels(schedule.model)?.length ?? 0,
        baseline: baseline && baselineView(baseline.name, baseline.statistics, baseline.constraints),
      });
      const status: ExecutionStatus = outcome.violations.length ? 'CompletedWithViolations' : 'Completed';
      const message = outcome.violations.length
        ? `CompletedWithViolations: ${outcome.violations[0]!.description}`
        : outcome.insufficientData
          ? `Completed: ${outcome.insufficientData}`
          : 'Completed: no violations';
      const finished = await executions.finish(
        execution,
        {
          status,
          recordCount: counts.recordCount,
          classCounts: Object.fromEntries(
            [...counts.classCounts].sort((a, b) => a[0] - b[0]).map(([k, n]) => [String(k), n]),
          ),
          message,
          violations: outcome.violations,
          metrics: outcome.metrics,
        },
        this.#clock(),
      );
      logger.info('monitoring execution finished', {
        schedule: schedule.name,
        trigger,
        status,
        records: counts.recordCount,
        window: [windowStart.toISOString(), windowEnd.toISOString()],
        ms: Date.now() - startedAt.getTime(),
      });
      if (outcome.violations.length) publishAlert(this.deps.pubsub, toAlert(finished, outcome.violations));
      return finished;
    } catch (error) {
      // an expected failure's message is written for users; anything else stays in the log, under the id
      const message =
        error instanceof VigilError
          ? `Failed: ${error.message}`
          : `Failed: an internal error stopped the run (errorId ${logUnexpected(logger, 'monitoring execution failed', error, { schedule: schedule.name })})`;
      if (error instanceof VigilError) logger.warn('monitoring execution failed', { schedule: schedule.name, error });
      const failed = await executions.fail(execution.id, message, this.#clock());
      return failed ?? execution;
    }
  }

  #owner(): string {
    return `${this.deps.instanceId}:${randomUUID().slice(0, 8)}`;
  }
}
