/**
 * A schedule lease held by a run, renewed while the run works: every third of its length, a
 * conditional UPDATE on (schedule, owner) moves its expiry to now + leaseMs. A lease that can no
 * longer be renewed — another replica took it after it expired, or the database did not answer
 * before it ran out — aborts the run's signal: the run stops and writes nothing, because another
 * replica may already have marked its execution failed and be covering its window.
 */
import type { Logger } from '../../logger.ts';
import type { ScheduleStore } from './store.ts';

/** why a run stopped before it finished */
export type StopReason = 'lease-lost' | 'shutdown';

/** the abort reason of a run's signal */
export class RunStopped extends Error {
  override name = 'RunStopped';
  constructor(readonly reason: StopReason) {
    super(reason === 'lease-lost' ? 'the run lost its schedule lease' : 'the server is shutting down');
  }
}

export interface HeldLeaseOptions {
  schedules: Pick<ScheduleStore, 'renew'>;
  logger: Logger;
  scheduleId: string;
  owner: string;
  leaseMs: number;
  /** when the lease was claimed (its expiry is this + leaseMs) */
  claimedAt: Date;
  clock: () => Date;
}

export class HeldLease {
  readonly #controller = new AbortController();
  readonly #options: HeldLeaseOptions;
  #expiresAt: number;
  #timer: NodeJS.Timeout | undefined;
  #released = false;

  constructor(options: HeldLeaseOptions) {
    this.#options = options;
    this.#expiresAt = options.claimedAt.getTime() + options.leaseMs;
    this.#next();
  }

  get owner(): string {
    return this.#options.owner;
  }

  /** aborted (with a RunStopped reason) when the run must stop */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** stops the run for `reason` (the first reason given stays) */
  abort(reason: StopReason): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(new RunStopped(reason));
  }

  /** stops renewing: the run is over and is about to release the lease */
  stop(): void {
    this.#released = true;
    clearTimeout(this.#timer);
  }

  #next(): void {
    if (this.#released || this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => void this.#renew().finally(() => this.#next()), this.#options.leaseMs / 3);
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    const { schedules, scheduleId, owner, leaseMs, clock, logger } = this.#options;
    const now = clock();
    try {
      if (await schedules.renew(scheduleId, owner, now, leaseMs)) {
        this.#expiresAt = now.getTime() + leaseMs;
        return;
      }
      if (this.#released) return;
      logger.warn('monitoring run lost its schedule lease: stopping it', { scheduleId, owner });
      this.abort('lease-lost');
    } catch (error) {
      // a failed renewal is retried at the next interval, while the lease still lasts
      if (this.#released) return;
      if (clock().getTime() < this.#expiresAt) {
        logger.warn('could not renew a schedule lease; retrying', { scheduleId, owner, error });
        return;
      }
      logger.warn('schedule lease expired before it could be renewed: stopping the run', { scheduleId, owner, error });
      this.abort('lease-lost');
    }
  }
}
