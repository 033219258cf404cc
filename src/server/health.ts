/**
 * /readyz: the database answers, migrations are applied, a model is loaded. 200 when every check
 * passes, 503 otherwise; a check may pass degraded (the event bus without Redis), which keeps 200 and
 * says `degraded`; 503 at once, without running the checks, while the server shuts down. Any caller (a
 * load balancer's probe has no key) gets the status; the checks' details, which name models, providers
 * and migrations, go to callers with the admin role only. A check that throws is reported failed with an
 * error id; its exception (a connection string, a path) goes to the log under that id. (/healthz, "the
 * process is up", is Yoga's own health check.)
 *
 * Probes are scraped every few seconds by every load balancer, so a check reads state the server
 * already holds: a dependency that must be asked (the database) is asked in the background by a
 * `BackgroundProbe`, and /readyz reads its last answer.
 */
import type { Plugin } from 'graphql-yoga';
import { allows } from '../auth/roles.ts';
import { type Logger, logUnexpected } from '../logger.ts';
import type { NodeServerContext } from './authentication.ts';
import { json } from './responses.ts';

export const READINESS_PATH = '/readyz';

export interface CheckResult {
  ok: boolean;
  /** working, with less than it should (the event bus without Redis): still ready, status `degraded` */
  degraded?: boolean;
  detail?: string | undefined;
}

export interface ReadinessCheck {
  name: string;
  check(): CheckResult | Promise<CheckResult>;
}

export interface ReadinessOptions {
  /** true once shutdown has begun: the answer is 503 whatever the checks say */
  draining: () => boolean;
}

export function useReadiness(
  checks: readonly ReadinessCheck[],
  logger: Logger,
  options: ReadinessOptions,
): Plugin<Record<string, unknown>, NodeServerContext> {
  return {
    async onRequest({ url, serverContext, endResponse }) {
      if (url.pathname !== READINESS_PATH) return;
      if (options.draining()) {
        endResponse(json(503, { status: 'shutting down' }, { 'cache-control': 'no-store' }));
        return;
      }
      const results = await readinessResults(checks, logger);
      const ready = results.every((r) => r.ok);
      const status = !ready ? 'not ready' : results.some((r) => r.degraded) ? 'degraded' : 'ready';
      const admin = serverContext.identity !== undefined && allows(serverContext.identity, 'admin');
      endResponse(
        json(ready ? 200 : 503, admin ? { status, checks: results } : { status }, { 'cache-control': 'no-store' }),
      );
    },
  };
}

export async function readinessResults(
  checks: readonly ReadinessCheck[],
  logger: Logger,
): Promise<(CheckResult & { name: string })[]> {
  return Promise.all(
    checks.map(async (c) => {
      try {
        return { name: c.name, ...(await c.check()) };
      } catch (error) {
        const errorId = logUnexpected(logger, 'readiness check failed', error, { check: c.name });
        return { name: c.name, ok: false, detail: `the check failed (errorId ${errorId})` };
      }
    }),
  );
}

export interface BackgroundProbeOptions {
  /** how often the dependency is asked */
  intervalMs: number;
  /** an answer older than this (a probe that hangs) counts as a failure; default 3 intervals */
  staleMs?: number;
}

/**
 * Asks a dependency every `intervalMs` (one question at a time; the timer does not keep the process
 * alive) and keeps the last answer, which `current()` reads without asking. Not ready until the first
 * answer; not ready when the last answer is older than `staleMs`, so a dependency that stops answering
 * at all turns the probe red too.
 */
export class BackgroundProbe {
  #last: CheckResult = { ok: false, detail: 'not probed yet' };
  #answeredAt = 0;
  #asking: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #staleMs: number;

  constructor(
    private readonly ask: () => Promise<CheckResult>,
    private readonly options: BackgroundProbeOptions,
    private readonly logger: Logger,
  ) {
    this.#staleMs = options.staleMs ?? 3 * options.intervalMs;
  }

  /** asks once now (resolving with the answer), then every interval */
  start(): Promise<void> {
    this.#stopped = false;
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.probe(), this.options.intervalMs);
      this.#timer.unref();
    }
    return this.probe();
  }

  /** no more questions; one already out is answered into the void (the dependency may be closing) */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** asks now, unless a question is already out */
  probe(): Promise<void> {
    this.#asking ??= this.ask()
      .then(
        (answer) => answer,
        (error: unknown) => {
          if (this.#stopped) return { ok: false, detail: 'stopped' };
          const errorId = logUnexpected(this.logger, 'readiness probe failed', error);
          return { ok: false, detail: `the probe failed (errorId ${errorId})` };
        },
      )
      .then((answer) => {
        if (this.#stopped) return;
        if (answer.ok !== this.#last.ok)
          this.logger.info(`readiness probe: ${answer.ok ? 'ok' : 'failing'}`, { ...answer });
        this.#last = answer;
        this.#answeredAt = performance.now();
      })
      .finally(() => {
        this.#asking = undefined;
      });
    return this.#asking;
  }

  current(): CheckResult {
    if (!this.#answeredAt) return this.#last;
    const age = performance.now() - this.#answeredAt;
    if (age > this.#staleMs) return { ok: false, detail: `no answer for ${Math.round(age / 1000)} s` };
    return this.#last;
  }
}
