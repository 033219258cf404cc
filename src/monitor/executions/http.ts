/**
 * An execution's files:
 *   GET /executions/<id>/constraint_violations.json   {"violations":[{feature_name, constraint_check_type, description}]}
 *   GET /executions/<id>/statistics.json                the window's statistics (404 until it has finished)
 *   GET /executions/<id>/classes.png                    the window's class counts as a bar chart
 *   GET /executions/<id>/confusion_matrix.json          the model-quality report (404 when the check was off)
 *   GET /executions/<id>/confusion_matrix.png           its confusion matrix as a picture
 */
import { NotFoundError } from '../../errors.ts';
import { classLabel } from '../../models/catalog.ts';
import { binary, json } from '../../server/responses.ts';
import { noRoute, pathSegment, type Route } from '../../server/routes.ts';
import { renderConfusionChart } from '../quality/confusion-chart.ts';
import { classCountList } from '../windows/class-counts.ts';
import { renderClassChart } from './class-chart.ts';
import { constraintViolations } from './constraint-violations-json.ts';
import type { ExecutionService } from './service.ts';
import type { ExecutionRecord } from './types.ts';

const EXECUTION_FILE =
  /^\/executions\/([^/]+)\/(constraint_violations\.json|statistics\.json|classes\.png|confusion_matrix\.json|confusion_matrix\.png)$/;

export function executionRoutes(
  executions: Pick<ExecutionService, 'get' | 'violations' | 'labels' | 'statistics'>,
): Route[] {
  return [
    {
      method: 'GET',
      path: '/executions/',
      role: 'read',
      async handle(_request, url) {
        const match = EXECUTION_FILE.exec(url.pathname);
        if (!match)
          throw noRoute(
            url,
            '/executions/<id>/constraint_violations.json, statistics.json, classes.png, confusion_matrix.json or .png',
          );
        const id = pathSegment(match[1]!, 'id');
        const execution = await executions.get(id);
        if (!execution) throw new NotFoundError('Execution', id);
        if (match[2] === 'constraint_violations.json') {
          return json(200, constraintViolations(await executions.violations(execution.id)));
        }
        if (match[2] === 'statistics.json') {
          const statistics = await executions.statistics(execution.id);
          if (!statistics)
            throw new NotFoundError(
              'Execution statistics',
              id,
              `Execution '${id}' has no statistics.json (status ${execution.status}): it is written when it completes`,
            );
          return json(200, statistics);
        }
        if (match[2]!.startsWith('confusion_matrix')) return confusionMatrixFile(execution, match[2]!, executions);
        const bars = classCountList(execution.classCounts, executions.labels(execution.model));
        const png = await renderClassChart(bars, chartTitle(execution));
        return binary(200, png, { 'content-type': 'image/png', 'cache-control': 'no-cache' });
      },
    },
  ];
}

async function confusionMatrixFile(
  execution: ExecutionRecord,
  file: string,
  executions: Pick<ExecutionService, 'labels'>,
): Promise<Response> {
  const report = execution.modelQuality;
  if (!report)
    throw new NotFoundError(
      'ModelQuality',
      execution.id,
      `Execution '${execution.id}' has no model-quality report: its modelQuality check was off`,
    );
  if (file.endsWith('.json')) {
    const labels = executions.labels(execution.model);
    return json(200, {
      execution: execution.id,
      schedule: execution.scheduleName,
      ...report,
      labels: Object.fromEntries(report.classes.map((c) => [String(c.classId), classLabel(labels, c.classId)])),
    });
  }
  const title = `${runName(execution)}: confusion matrix, ${report.windowStart} to ${report.windowEnd}`;
  const png = await renderConfusionChart(report, title);
  return binary(200, png, { 'content-type': 'image/png', 'cache-control': 'no-cache' });
}

/** the schedule's name; an ad-hoc execution's endpoint */
function runName(e: ExecutionRecord): string {
  return e.scheduleName ?? `${e.endpointName} (ad hoc)`;
}

function chartTitle(e: ExecutionRecord): string {
  return `${runName(e)}: ${e.recordCount} captures, ${e.windowStart.toISOString()} to ${e.windowEnd.toISOString()}`;
}
