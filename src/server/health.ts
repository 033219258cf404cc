/**
 * /readyz: the database answers, migrations are applied, a model is loaded. 200 when every check
 * passes, 503 otherwise, with each check's result. (/healthz, "the process is up", is Yoga's own
 * health check.)
 */
import { type Plugin, useReadinessCheck } from 'graphql-yoga';
import { json } from './responses.ts';

export interface CheckResult {
  ok: boolean;
  detail?: string | undefined;
}

export interface ReadinessCheck {
  name: string;
  check(): CheckResult | Promise<CheckResult>;
}

export function useReadiness(checks: readonly ReadinessCheck[]): Plugin {
  return useReadinessCheck({
    endpoint: '/readyz',
    async check() {
      const results = await Promise.all(
        checks.map(async (c) => {
          try {
            return { name: c.name, ...(await c.check()) };
          } catch (error) {
            return { name: c.name, ok: false, detail: error instanceof Error ? error.message : String(error) };
          }
        }),
      );
      const ready = results.every((r) => r.ok);
      return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: results });
    },
  });
}
