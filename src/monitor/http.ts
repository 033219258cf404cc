/**
 * Model Monitor downloads, in SageMaker's file names and shapes, each defined beside its concept:
 *   GET /baselines/<id>/statistics.json, GET /baselines/<id>/constraints.json   (baselines/http.ts)
 *   GET /executions/<id>/constraint_violations.json, GET /executions/<id>/classes.png   (executions/http.ts)
 *   GET /metrics   Prometheus exposition   (metrics/http.ts)
 */
import type { Route } from '../server/routes.ts';
import { baselineRoutes } from './baselines/http.ts';
import { executionRoutes } from './executions/http.ts';
import type { Monitor } from './index.ts';
import { metricsRoutes } from './metrics/http.ts';

export function monitorRoutes(monitor: Monitor): Route[] {
  return [
    ...baselineRoutes(monitor.baselines),
    ...executionRoutes(monitor.executions),
    ...metricsRoutes(monitor.metrics),
  ];
}
