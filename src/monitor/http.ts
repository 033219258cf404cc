/**
 * Model Monitor downloads, in SageMaker's file names and shapes, each defined beside its concept:
 *   GET /baselines/<id>/statistics.json, GET /baselines/<id>/constraints.json   (baselines/http.ts)
 *   GET /executions/<id>/constraint_violations.json, GET /executions/<id>/classes.png   (executions/http.ts)
 * (GET /metrics, metrics/http.ts, gathers the monitor's metrics with the serving ones: the composition
 * root adds it.)
 */
import type { Route } from '../server/routes.ts';
import { baselineRoutes } from './baselines/http.ts';
import { executionRoutes } from './executions/http.ts';
import type { Monitor } from './index.ts';

export function monitorRoutes(monitor: Monitor): Route[] {
  return [...baselineRoutes(monitor.baselines), ...executionRoutes(monitor.executions)];
}
