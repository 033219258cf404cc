/**
 * Runs due schedules. Every replica ticks (every SCHEDULER_INTERVAL_MS), but a run happens only
 * where the schedule's lease is won — one conditional UPDATE on `nextRunAt <= now` and a free lease —
 * so a schedule due once runs once however many replicas there are. The winner sets the next run
 * and releases; a replica that stops mid-run leaves a lease that expires, and the schedule is retried.
 */
import type { Logger } from '../../logger.ts';
import type { ExecutionService } from '../executions/service.ts';
import type { ScheduleStore } from './store.ts';

export interface SchedulerDeps {
  schedules: Pick<ScheduleStore, 'due'>;
  executions: Pick<ExecutionService, 'runIfDue'>;
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

  /** stops ticking and waits for a tick in progress */
  async stop(): Promise<void> {
    this.#started = false;
    this.#closing = true;
    clearTimeout(this.#timer);
    await this.#ticking?.catch(() => {});
  }

  /** Runs every schedule that is due and whose lease this replica wins; resolves to how many ran. */
  async tick(): Promise<number> {
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
