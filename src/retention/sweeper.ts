/**
 * The retention sweeper: a background service (started by the composition root) that deletes what has
 * expired, and what deleteEndpoint left behind, in small batches.
 *
 * Each sweep, every RETENTION_SWEEP_INTERVAL_MS and at once when an endpoint is deleted (on any
 * replica: the `endpointChanged` event):
 * - deleted endpoints: their schedules are retired (renamed, never due), then deleted with their
 *   executions, violations and metrics; their baselines, debug steps with tensors, captures, and last
 *   the endpoint row;
 * - captures older than their endpoint's `dataCapture.retentionDays`, with their debug steps and tensors;
 * - debug steps (and tensors) older than `debugHook.retentionDays`; their captures stay;
 * - executions (violations, metrics) older than their schedule's `executionRetentionDays`, except the
 *   one the next window starts from and any still running.
 *
 * Every DELETE removes at most `batchSize` rows, children before parents: rows by primary key,
 * picked oldest first from where the previous batch ended (an index range, never a rescan of the
 * index entries of rows just deleted), or the children of whole parents, counted first to fit a batch.
 * A pause follows each, at least three times as long as the batch took by default (`busyShare`): no
 * statement holds a lock for long, and the group commit, readers and requests (SQLite's statements
 * run on the event loop) get the database and the loop most of the time.
 *
 * Replicas need no coordination: rows are picked afresh for each batch and deleted by key, so two
 * sweepers at once only repeat cheap SELECTs (a DELETE of rows already gone deletes 0), and a sweep
 * stopped half-way (shutdown, crash) is finished by the next one.
 */
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import type { PubSub } from 'graphql-yoga';
import type { Logger } from '../logger.ts';
import type { EventMap } from '../pubsub/events.ts';
import type { ChildTable, RetentionStore, TimedRow } from './store.ts';
import { SWEPT_TABLES, type SweepReport, type SweptTable } from './types.ts';

const DAY_MS = 86_400_000;

export interface RetentionSweeperDeps {
  store: RetentionStore;
  logger: Logger;
  /** deleted endpoints wake the sweeper */
  pubsub?: PubSub<EventMap>;
  intervalMs: number;
  /** rows per DELETE statement (default 500) */
  batchSize?: number;
  /** the shortest pause after each DELETE statement (default 10 ms) */
  pauseMs?: number;
  /**
   * the share of time the sweeper may keep the database busy (default 0.25): after each batch it
   * pauses at least (1 − share) / share times as long as the batch's statements took, so slower
   * statements (a loaded database, SQLite's statements running on the event loop) make longer pauses
   */
  busyShare?: number;
  clock?: () => Date;
}

class Interrupted extends Error {}

export class RetentionSweeper {
  readonly #batchSize: number;
  readonly #pauseMs: number;
  readonly #pauseFactor: number;
  readonly #clock: () => Date;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping = false;
  /** the sweep in progress (sweeps never overlap within a process) */
  #running: Promise<SweepReport> | undefined;
  /** the timer's sweep is running (a wake-up then waits for it) */
  #ticking = false;
  /** a wake-up arrived during the timer's sweep: sweep again right after it */
  #again = false;
  #stopListening: (() => void) | undefined;

  constructor(private readonly deps: RetentionSweeperDeps) {
    this.#batchSize = deps.batchSize ?? 500;
    this.#pauseMs = deps.pauseMs ?? 10;
    const share = deps.busyShare ?? 0.25;
    if (!(share > 0 && share <= 1)) throw new RangeError(`busyShare must be in (0, 1], got ${share}`);
    this.#pauseFactor = (1 - share) / share;
    this.#clock = deps.clock ?? (() => new Date());
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = false;
    if (this.deps.pubsub) {
      const iterator = this.deps.pubsub.subscribe('endpointChanged');
      this.#stopListening = () => void iterator.return?.();
      void (async () => {
        for await (const change of iterator) if (change.kind === 'DELETED') this.wake();
      })().catch((error: unknown) => this.deps.logger.error('retention wake-up listener stopped', { error }));
    }
    // deletions a previous process left unfinished go on at the first interval
    this.#schedule(this.deps.intervalMs);
  }

  /** stops the timer, and the sweep in progress after its current batch */
  async stop(): Promise<void> {
    this.#started = false;
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#stopListening?.();
    await this.#running?.catch(() => {});
  }

  /** sweeps now (after the sweep in progress, if any) rather than at the next interval */
  wake(): void {
    if (!this.#started) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#schedule(0);
  }

  /** One sweep, after any in progress; what it deleted. */
  sweep(): Promise<SweepReport> {
    const previous = this.#running?.catch(() => undefined) ?? Promise.resolve();
    const run = previous.then(() => this.#sweepOnce());
    this.#running = run;
    void run
      .finally(() => {
        if (this.#running === run) this.#running = undefined;
      })
      .catch(() => {});
    return run;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#ticking = true;
      this.#again = false;
      this.sweep()
        .then((report) => this.#log(report))
        .catch((error: unknown) => this.deps.logger.error('retention sweep failed', { error }))
        .finally(() => {
          this.#ticking = false;
          if (this.#started) this.#schedule(this.#again ? 0 : this.deps.intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }

  async #sweepOnce(): Promise<SweepReport> {
    const report: SweepReport = {
      deleted: Object.fromEntries(SWEPT_TABLES.map((t) => [t, 0])) as Record<SweptTable, number>,
      statements: 0,
      largestStatement: 0,
      interrupted: false,
    };
    const sweep = new Sweep(this.deps.store, report, {
      batchSize: this.#batchSize,
      pauseMs: this.#pauseMs,
      pauseFactor: this.#pauseFactor,
      stopping: () => this.#stopping,
    });
    const { store, logger } = this.deps;
    try {
      for (const endpoint of await store.deletedEndpoints()) {
        await this.#each(logger, 'deleted endpoint', endpoint.id, () => sweep.deletedEndpoint(endpoint.id));
      }
      const now = this.#clock().getTime();
      for (const e of await store.endpointsWithRetention()) {
        if (e.captureRetentionDays !== null) {
          const before = new Date(now - e.captureRetentionDays * DAY_MS);
          await this.#each(logger, 'captures', e.name, () => sweep.capturesBefore(e.id, before));
        }
        if (e.hookRetentionDays !== null) {
          const before = new Date(now - e.hookRetentionDays * DAY_MS);
          await this.#each(logger, 'debug steps', e.name, () => sweep.stepsBefore(e.id, before));
        }
      }
      for (const s of await store.schedulesWithRetention()) {
        const before = new Date(now - s.executionRetentionDays * DAY_MS);
        await this.#each(logger, 'executions', s.name, () => sweep.executionsBefore(s.id, before));
      }
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      report.interrupted = true;
    }
    return report;
  }

  /** one endpoint's or schedule's part of a sweep: a failure is logged and the sweep goes on */
  async #each(logger: Logger, what: string, of: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      logger.error(`retention sweep of ${what} failed`, { of, error });
    }
  }

  #log(report: SweepReport): void {
    const deleted = Object.fromEntries(Object.entries(report.deleted).filter(([, n]) => n > 0));
    if (report.statements > 0) this.deps.logger.info('retention sweep', { deleted, statements: report.statements });
  }
}

interface SweepPace {
  batchSize: number;
  pauseMs: number;
  pauseFactor: number;
  stopping: () => boolean;
}

/** the batches of one sweep: picks ids, deletes them, counts, pauses */
class Sweep {
  readonly batchSize: number;
  /** when the statements since the last pause began */
  #busySince = performance.now();

  constructor(
    private readonly store: RetentionStore,
    private readonly report: SweepReport,
    private readonly pace: SweepPace,
  ) {
    this.batchSize = pace.batchSize;
  }

  async deletedEndpoint(endpointId: string): Promise<void> {
    const { store } = this;
    await store.retireSchedulesOf(endpointId);
    for (const scheduleId of await store.schedulesOf(endpointId)) {
      await this.#drainFrom(
        'MonitoringExecution',
        (from) => store.executions(scheduleId, from, this.batchSize),
        (ids) => this.#executionChildren(ids),
      );
      await this.#delete('MonitoringSchedule', () => store.deleteIds('MonitoringSchedule', [scheduleId]));
    }
    for (;;) {
      const baselines = await store.baselinesOf(endpointId, this.batchSize);
      if (!baselines.length) break;
      await this.#delete('Baseline', () => store.deleteIds('Baseline', baselines));
    }
    await this.#drainFrom(
      'DebugStep',
      (from) => store.steps(endpointId, from, null, this.batchSize),
      (ids) => this.#children('Tensor', ids),
    );
    await this.#drainFrom('Capture', (from) => store.captures(endpointId, from, null, this.batchSize));
    await this.#delete('Endpoint', () => store.deleteEndpointRow(endpointId));
  }

  async capturesBefore(endpointId: string, before: Date): Promise<void> {
    await this.#drainFrom(
      'Capture',
      (from) => this.store.captures(endpointId, from, before, this.batchSize),
      async (captureIds) => {
        const stepIds = await this.store.stepsOfCaptures(captureIds);
        if (!stepIds.length) return;
        await this.#children('Tensor', stepIds);
        await this.#delete('DebugStep', () => this.store.deleteIds('DebugStep', stepIds));
      },
    );
  }

  async stepsBefore(endpointId: string, before: Date): Promise<void> {
    await this.#drainFrom(
      'DebugStep',
      (from) => this.store.steps(endpointId, from, before, this.batchSize),
      (ids) => this.#children('Tensor', ids),
    );
  }

  async executionsBefore(scheduleId: string, before: Date): Promise<void> {
    await this.#drainFrom(
      'MonitoringExecution',
      (from) => this.store.expiredExecutions(scheduleId, from, before, this.batchSize),
      (ids) => this.#executionChildren(ids),
    );
  }

  async #executionChildren(executionIds: readonly string[]): Promise<void> {
    await this.#children('Violation', executionIds);
    await this.#children('Metric', executionIds);
  }

  /**
   * Deletes, oldest first, batch after batch of the rows `pick` returns from a cursor (the time the
   * previous batch ended at), each batch's children first, until a batch comes back short.
   */
  async #drainFrom(
    table: SweptTable,
    pick: (from: Date) => Promise<TimedRow[]>,
    children?: (ids: readonly string[]) => Promise<void>,
  ): Promise<void> {
    let from = new Date(0);
    let previousFirst: string | undefined;
    for (;;) {
      if (this.pace.stopping()) throw new Interrupted();
      const rows = await pick(from);
      // the same first row twice: the last DELETE removed nothing, and nothing would change by going on
      if (!rows.length || rows[0]?.id === previousFirst) return;
      previousFirst = rows[0]?.id;
      const ids = rows.map((r) => r.id);
      await children?.(ids);
      await this.#delete(table, () => this.store.deleteIds(table, ids));
      // fewer than a batch: nothing is left but what arrives meanwhile, which the next sweep takes
      if (rows.length < this.batchSize) return;
      from = rows.at(-1)?.at ?? from;
    }
  }

  /**
   * The children of these parents: whole parents per DELETE while their children fit in a batch
   * (counted first), a parent with more than a batch page by page.
   */
  async #children(table: ChildTable, parentIds: readonly string[]): Promise<void> {
    let chunk: string[] = [];
    let rows = 0;
    const flush = async () => {
      const parents = chunk;
      chunk = [];
      rows = 0;
      if (parents.length) await this.#delete(table, () => this.store.deleteChildrenOf(table, parents));
    };
    for (const { parentId, count } of await this.store.childCounts(table, parentIds)) {
      if (count > this.batchSize) {
        await this.#pagedChildren(table, parentId);
        continue;
      }
      if (rows + count > this.batchSize) await flush();
      chunk.push(parentId);
      rows += count;
    }
    await flush();
  }

  async #pagedChildren(table: ChildTable, parentId: string): Promise<void> {
    let after = '';
    for (;;) {
      if (this.pace.stopping()) throw new Interrupted();
      const rows = await this.store.childrenOf(table, parentId, after, this.batchSize);
      if (!rows.length) return;
      await this.#delete(table, () =>
        this.store.deleteIds(
          table,
          rows.map((r) => r.id),
        ),
      );
      if (rows.length < this.batchSize) return;
      after = rows.at(-1)?.key ?? after;
    }
  }

  /** runs one DELETE, counts what it removed, and pauses */
  async #delete(table: SweptTable, run: () => Promise<number>): Promise<void> {
    const deleted = await run();
    this.report.deleted[table] += deleted;
    this.report.statements++;
    this.report.largestStatement = Math.max(this.report.largestStatement, deleted);
    // the SELECTs that picked the rows and the DELETE count as busy time alike
    const busyMs = performance.now() - this.#busySince;
    const pauseMs = Math.max(this.pace.pauseMs, busyMs * this.pace.pauseFactor);
    if (pauseMs >= 1) await sleep(pauseMs);
    else await yieldToLoop();
    this.#busySince = performance.now();
  }
}
