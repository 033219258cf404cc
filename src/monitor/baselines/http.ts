/** A baseline's files, in SageMaker's names: GET /baselines/<id>/statistics.json, GET /baselines/<id>/constraints.json */
import { NotFoundError } from '../../errors.ts';
import { json } from '../../server/responses.ts';
import { noRoute, pathSegment, type Route } from '../../server/routes.ts';
import type { BaselineService } from './service.ts';

const BASELINE_FILE = /^\/baselines\/([^/]+)\/(statistics|constraints)\.json$/;

export function baselineRoutes(baselines: Pick<BaselineService, 'get'>): Route[] {
  return [
    {
      method: 'GET',
      path: '/baselines/',
      role: 'read',
      async handle(_request, url) {
        const match = BASELINE_FILE.exec(url.pathname);
        if (!match) throw noRoute(url, '/baselines/<id>/statistics.json or constraints.json');
        const id = pathSegment(match[1]!, 'id');
        const baseline = await baselines.get(id);
        if (!baseline) throw new NotFoundError('Baseline', id);
        return json(200, match[2] === 'statistics' ? baseline.statistics : baseline.constraints);
      },
    },
  ];
}
