/** GET /metrics: the Prometheus exposition (latest value per schedule and metric, and process gauges). */
import type { Route } from '../../server/routes.ts';
import type { MetricService } from './service.ts';

export function metricsRoutes(metrics: Pick<MetricService, 'prometheus'>): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      role: 'read',
      async handle() {
        const text = await metrics.prometheus();
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
