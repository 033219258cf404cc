/**
 * Model Monitor downloads, in SageMaker's file names and shapes:
 *   GET /baselines/<id>/statistics.json, GET /baselines/<id>/constraints.json
 *   GET /executions/<id>/constraint_violations.json   {"violations":[{feature_name, constraint_check_type, description}]}
 *   GET /executions/<id>/classes.png                    the window's class counts as a bar chart
 *   GET /metrics                                        Prometheus exposition (latest value per schedule and metric)
 */
import { NotFoundError } from '../errors.ts';
import { binary, json } from '../server/responses.ts';
import { pathSegment, type Route } from '../server/routes.ts';
import { renderClassChart } from './chart.ts';
import type { Monitor } from './index.ts';
import type { ExecutionRecord } from './types.ts';
import { classCountList, constraintViolations } from './views.ts';

const BASELINE_FILE = /^\/baselines\/([^/]+)\/(statistics|constraints)\.json$/;
const EXECUTION_FILE = /^\/executions\/([^/]+)\/(constraint_violations\.json|classes\.png)$/;

export function monitorRoutes(monitor: Monitor): Route[] {
  return [
    {
      method: 'GET',
      path: '/baselines/',
      role: 'read',
      async handle(_request, url) {
        const match = BASELINE_FILE.exec(url.pathname);
        if (!match) throw noRoute(url, '/baselines/<id>/statistics.json or constraints.json');
        const id = pathSegment(match[1]!, 'id');
        const baseline = await monitor.baselines.get(id);
        if (!baseline) throw new NotFoundError('Baseline', id);
        return json(200, match[2] === 'statistics' ? baseline.statistics : baseline.constraints);
      },
    },
    {
      method: 'GET',
      path: '/executions/',
      role: 'read',
      async handle(_request, url) {
        const match = EXECUTION_FILE.exec(url.pathname);
        if (!match) throw noRoute(url, '/executions/<id>/constraint_violations.json or classes.png');
        const id = pathSegment(match[1]!, 'id');
        const execution = await monitor.executions.get(id);
        if (!execution) throw new NotFoundError('Execution', id);
        if (match[2] === 'constraint_violations.json') {
          return json(200, constraintViolations(await monitor.executions.violations(execution.id)));
        }
        const bars = classCountList(execution.classCounts, monitor.executions.labels(execution.model));
        const png = await renderClassChart(bars, chartTitle(execution));
        return binary(200, png, { 'content-type': 'image/png', 'cache-control': 'no-cache' });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      role: 'read',
      async handle() {
        const text = await monitor.metrics.prometheus();
        return new Response(text, {
          status: 200,
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) },
        });
      },
    },
  ];
}

function chartTitle(e: ExecutionRecord): string {
  return `${e.scheduleName}: ${e.recordCount} captures, ${e.windowStart.toISOString()} to ${e.windowEnd.toISOString()}`;
}

function noRoute(url: URL, use: string): NotFoundError {
  return new NotFoundError('Route', url.pathname, `no route for GET ${url.pathname}: use ${use}`);
}
