/**
 * GET /metrics: the Prometheus exposition of every source the composition root gives: the monitor's
 * (latest value per schedule and metric, process gauges) and the serving metrics (serving.ts).
 */
import type { Route } from '../../server/routes.ts';
import { Exposition, type MetricSource } from './prometheus.ts';

export function metricsRoutes(sources: readonly MetricSource[]): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      role: 'read',
      async handle() {
        const out = new Exposition();
        for (const source of sources) await source.collect(out);
        const text = out.text();
        return new Response(text, {
          status: 200,
          headers: {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
            'content-length': String(Buffer.byteLength(text)),
          },
        });
      },
    },
  ];
}
