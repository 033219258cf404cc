/**
 * /readyz: the database answers, migrations are applied, a model is loaded. 200 when every check
 * passes, 503 otherwise; a check may pass degraded (the event bus without Redis), which keeps 200 and
 * says `degraded`. Any caller (a load balancer's probe has no key) gets the status; the checks'
 * details, which name models, providers and migrations, go to callers with the admin role only. A check
 * that throws is reported failed with an error id; its exception (a connection string, a path) goes to
 * the log under that id. (/healthz, "the process is up", is Yoga's own health check.)
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

export function useReadiness(
  checks: readonly ReadinessCheck[],
  logger: Logger,
): Plugin<Record<string, unknown>, NodeServerContext> {
  return {
    async onRequest({ url, serverContext, endResponse }) {
      if (url.pathname !== READINESS_PATH) return;
      const results = await Promise.all(
        checks.map(async (c) => {
          try {
            return { name: c.name, ...(await c.check()) };
          } catch (error) {
            const errorId = logUnexpected(logger, 'readiness check failed', error, { check: c.name });
            return { name: c.name, ok: false, detail: `the check failed (errorId ${errorId})` };
          }
        }),
      );
      const ready = results.every((r) => r.ok);
      const status = !ready ? 'not ready' : results.some((r) => r.degraded) ? 'degraded' : 'ready';
      const admin = serverContext.identity !== undefined && allows(serverContext.identity, 'admin');
      endResponse(
        json(ready ? 200 : 503, admin ? { status, checks: results } : { status }, { 'cache-control': 'no-store' }),
      );
    },
  };
}
