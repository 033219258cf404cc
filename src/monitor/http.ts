/**
 * Model Monitor downloads, in SageMaker's file names and shapes:
 *   GET /baselines/<id>/statistics.json, GET /baselines/<id>/constraints.json
 *   GET /executions/<id>/constraint_violations.json   {"violations":[{feature_name, constraint_check_type, description}]}
 *   GET /executions/<id>/classes.png                    the window's class counts as a bar chart
 *   GET /metrics                                        Prometheus exposition (latest value per schedule and metric)
 */
import type { ServerResponse } from 'node:http';
import { sendJson, type Route } from '../server/routes.ts';
import { renderClassChart } from './chart.ts';
import type { Monitor } from './index.ts';
import type { ExecutionRecord } from './types.ts';
import { classCountList, constraintViolations } from './views.ts';

export function monitorRoutes(monitor: Monitor): Route[] {
  return [
    {
      method: 'GET',
      path: '/baselines/',
      async handle(_req, res, url) {
        const match = /^\/baselines\/([^/]+)\/(statistics|constraints)\.json$/.exec(url.pathname);
        if (!match) return notFound(res, url);
        const baseline = await monitor.baselines.get(decodeURIComponent(match[1]!));
        if (!baseline) return sendJson(res, 404, { error: `Baseline '${match[1]}' does not exist`, code: 'NOT_FOUND' });
        sendJson(res, 200, match[2] === 'statistics' ? baseline.statistics : baseline.constraints);
      },
    },
    {
      method: 'GET',
      path: '/executions/',
      async handle(_req, res, url) {
        const match = /^\/executions\/([^/]+)\/(constraint_violations\.json|classes\.png)$/.exec(url.pathname);
        if (!match) return notFound(res, url);
        const execution = await monitor.executions.get(decodeURIComponent(match[1]!));
        if (!execution) return sendJson(res, 404, { error: `Execution '${match[1]}' does not exist`, code: 'NOT_FOUND' });
        if (match[2] === 'constraint_violations.json') {
          return sendJson(res, 200, constraintViolations(await monitor.executions.violations(execution.id)));
        }
        const bars = classCountList(execution.classCounts, monitor.executions.labels(execution.model));
        const png = await renderClassChart(bars, chartTitle(execution));
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'cache-control': 'no-cache' });
        res.end(png);
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      async handle(_req, res) {
        const text = await monitor.metrics.prometheus();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
    },
  ];
}

function chartTitle(e: ExecutionRecord): string {
  return `${e.scheduleName}: ${e.recordCount} captures, ${e.windowStart.toISOString()} to ${e.windowEnd.toISOString()}`;
}

function notFound(res: ServerResponse, url: URL): void {
  sendJson(res, 404, { error: `no route for GET ${url.pathname}` });
}
