/**
 * Runs due schedules. Every replica ticks (every SCHEDULER_INTERVAL_MS), but a run happens only
 * where the schedule's lease is won — one conditional UPDATE on `nextRunAt <= now` and a free lease —
 * so a schedule due once runs once however many replicas there are. The winner renews the lease while
 * it runs, then sets the next run and releases. A replica that stops mid-run leaves a lease that
 * expires: the first tick after that (on any replica) marks its execution failed, and the schedule,
 * still due, runs again over the failed window.
 */
import type { Logger } from '../../logger.ts';
import type { ExecutionService } from '../executions/service.ts';
import type { ScheduleStore } from './store.ts';

export interface SchedulerDeps {
  schedules: Pick<ScheduleStore, 'due'>;
  executions: Pick<ExecutionService, 'runIfDue' | 'failOrphaned' | 'stop'>;
  intervalMs: number;
  logger: Logger;
  clock?: () => Date;
}

export class MonitorScheduler {
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<number> | undefined;
  #started = false;
  /** set by stop(): a tick in progress runs no further schedule */
  #closing = false;

  constructor(private readonly deps: SchedulerDeps) {}

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#closing = false;
    this.#schedule();
  }

  /**
   * Stops ticking; waits up to `timeoutMs` for the runs in progress (scheduled or manual) to finish,
   * then stops them: each marks its execution failed and releases its lease, for another replica to
   * run the schedule again (ExecutionService.stop).
   */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    this.#started = false;
    this.#closing = true;
    clearTimeout(this.#timer);
    await this.deps.executions.stop(timeoutMs);
    await this.#ticking?.catch(() => {});
  }

  /**
   * Marks failed the executions of runs that stopped (their lease expired), then runs every schedule
   * that is due and whose lease this replica wins; resolves to how many ran.
   */
  async tick(): Promise<number> {
    try {
      await this.deps.executions.failOrphaned();
    } catch (error) {
      this.deps.logger.error('could not mark the executions of stopped runs failed', { error });
    }
    const now = (this.deps.clock ?? (() => new Date()))();
    const due = await this.deps.schedules.due(now);
    let ran = 0;
    for (const schedule of due) {
      if (this.#closing) break;
      try {
        if (await this.deps.executions.runIfDue(schedule.id)) ran++;
      } catch (error) {
        this.deps.logger.error('scheduled monitoring run failed', { schedule: schedule.name, error });
      }
    }
    return ran;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#ticking = this.tick()
        .catch((error: unknown) => {
          this.deps.logger.error('scheduler tick failed', { error });
          return 0;
        })
        .finally(() => {
          this.#ticking = undefined;
          if (this.#started) this.#schedule();
        });
    }, this.deps.intervalMs);
    this.#timer.unref();
  }
}

/** how long stop() waits for a run in progress before stopping it */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
