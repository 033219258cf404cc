/** /healthz: the process is up. /readyz: the database answers, migrations are applied, models load. */
import type { Route } from './routes.ts';
import { sendJson } from './routes.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

export function healthRoutes(checks: readonly ReadinessCheck[]): Route[] {
  return [
    { method: 'GET', path: '/healthz', handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      async handle(_req, res) {
        const results = await Promise.all(
          checks.map(async (c) => {
            try {
              return { name: c.name, ...(await c.check()) };
            } catch (error) {
              return { name: c.name, ok: false, detail: (error as Error).message };
            }
          }),
        );
        const ready = results.every((r) => r.ok);
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: results });
      },
    },
  ];
}
