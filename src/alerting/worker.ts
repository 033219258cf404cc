/**
 * The delivery worker, one per process: every ALERT_POLL_INTERVAL_MS it claims due deliveries (a lease
 * per row: safe with any number of replicas) and sends them, each attempt recorded with its outcome.
 * A delivery whose sender died (SIGKILL, lost host) keeps its lease until it expires, then any replica
 * claims it again: at least once, under the same X-Vigil-Delivery id, which receivers use to drop
 * repeats. The lease outlasts the request's time limit, so a live sender is never overtaken.
 */
import type { Logger } from '../logger.ts';
import { isRetryable, nextAttemptAt, type RetryPolicy, retryAfterMs } from './backoff.ts';
import { checkDestination, type DestinationPolicy, DestinationRefused, RESOLVE_TIMEOUT_MS } from './destination.ts';
import { ATTEMPT_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, sign } from './payload.ts';
import { post, type SendOutcome } from './sender.ts';
import type { AlertStore, AttemptResult, ClaimedDelivery } from './store.ts';

export interface DeliverySettings {
  retry: RetryPolicy;
  /** one request's time limit, connection to the end of what is read of the response */
  timeoutMs: number;
  pollIntervalMs: number;
  destinations: DestinationPolicy;
}

export interface DeliveryWorkerDeps {
  store: AlertStore;
  settings: DeliverySettings;
  logger: Logger;
  /** identifies this process in leases */
  owner: string;
  userAgent: string;
  clock?: () => Date;
}

/** deliveries claimed per poll (sent concurrently) */
const BATCH = 16;
/** beyond the request's time limit: the DNS lookup (bounded by RESOLVE_TIMEOUT_MS) and the attempt's write */
const LEASE_MARGIN_MS = RESOLVE_TIMEOUT_MS + 5000;

export class DeliveryWorker {
  readonly #clock: () => Date;
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #started = false;

  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  get leaseMs(): number {
    return this.deps.settings.timeoutMs + LEASE_MARGIN_MS;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule();
  }

  /** Stops polling and the sends in flight (their deliveries are released for the next replica, no attempt counted). */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    this.#stopping.abort();
    await this.#polling;
  }

  /** claims and sends what is due now; resolves to how many were attempted */
  async poll(): Promise<number> {
    const { store, owner } = this.deps;
    const claimed = await store.claimDue(owner, this.#clock(), this.leaseMs, BATCH);
    await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    return claimed.length;
  }

  /** One attempt of a delivery this process holds, recorded with its outcome; null if shutdown stopped it. */
  async attempt(delivery: ClaimedDelivery): Promise<AttemptResult | null> {
    const { store, settings, logger, owner } = this.deps;
    const channel = await store.channel(delivery.channelId);
    if (!channel) return null; // deleted with its deliveries
    const attempt = delivery.attemptCount + 1;
    let outcome: SendOutcome;
    let refused = false;
    const started = this.#clock();
    try {
      const destination = await checkDestination(channel.url, settings.destinations);
      outcome = await post(
        destination,
        delivery.body,
        {
          'user-agent': this.deps.userAgent,
          [DELIVERY_HEADER]: delivery.id,
          [ATTEMPT_HEADER]: String(attempt),
          [SIGNATURE_HEADER]: sign(channel.secret, delivery.body),
        },
        { timeoutMs: settings.timeoutMs, signal: this.#stopping.signal },
      );
    } catch (error) {
      if (!(error instanceof DestinationRefused)) throw error;
      refused = true;
      outcome = { error: `refused: ${error.message}`, durationMs: this.#clock().getTime() - started.getTime() };
    }
    if (this.#stopping.signal.aborted && outcome.statusCode === undefined) {
      await store.release(delivery.id, owner);
      return null;
    }
    const now = this.#clock();
    const delivered = outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const next =
      delivered || refused || !delivery.retry || !isRetryable(outcome.statusCode ?? null)
        ? null
        : nextAttemptAt(
            attempt,
            delivery.createdAt,
            now,
            settings.retry,
            Math.random,
            retryAfterMs(outcome.retryAfter),
          );
    const result: AttemptResult = {
      at: started,
      durationMs: outcome.durationMs,
      statusCode: outcome.statusCode ?? null,
      error: outcome.error ?? null,
      status: delivered ? 'DELIVERED' : next ? 'PENDING' : 'FAILED',
      nextAttemptAt: next ?? now,
    };
    if (!(await store.recordAttempt(delivery, owner, result))) {
      logger.warn('alert delivery attempt not recorded: its lease was taken meanwhile', { delivery: delivery.id });
      return result;
    }
    const fields = { channel: channel.name, delivery: delivery.id, attempt, status: outcome.statusCode };
    if (delivered) logger.info('alert delivered', fields);
    else if (next) logger.warn('alert delivery failed; retrying', { ...fields, error: outcome.error, next });
    else logger.error('alert delivery failed; given up', { ...fields, error: outcome.error });
    return result;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#polling = this.poll()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.logger.error('alert delivery poll failed', { error }))
        .finally(() => {
          this.#polling = undefined;
          if (this.#started) this.#schedule();
        });
    }, this.deps.settings.pollIntervalMs);
    this.#timer.unref();
  }
}
