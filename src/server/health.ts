/**
 * /readyz: the database answers, migrations are applied, a model is loaded. 200 when every check
 * passes, 503 otherwise, with each check's result; a check may pass degraded (the event bus without
 * Redis), which keeps 200 and says `degraded`. A check that throws is reported failed with an
 * error id; its exception (a connection string, a path) goes to the log under that id. (/healthz,
 * "the process is up", is Yoga's own health check.)
 */
import { type Plugin, useReadinessCheck } from 'graphql-yoga';
import { type Logger, logUnexpected } from '../logger.ts';
import { json } from './responses.ts';

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

export function useReadiness(checks: readonly ReadinessCheck[], logger: Logger): Plugin {
  return useReadinessCheck({
    endpoint: '/readyz',
    async check() {
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
      return json(ready ? 200 : 503, { status, checks: results });
    },
  });
}
