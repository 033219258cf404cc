/**
 * GET /captures/export?endpoint=NAME[&from=ISO][&to=ISO]: an endpoint's captures in [from, to), oldest
 * first, as a SageMaker data-capture JSON Lines download, streamed line by line at the pace the client
 * reads. 400 for a missing endpoint parameter or an invalid date, 404 for an unknown endpoint.
 */
import type { ServerResponse } from 'node:http';
import { NotFoundError, ValidationError } from '../errors.ts';
import { sendJson, type Route } from '../server/routes.ts';
import { prependLine, writeLines } from './export.ts';
import { parseIsoDate } from './queries.ts';
import type { CaptureService } from './service.ts';

export function captureRoutes(captures: CaptureService): Route[] {
  return [
    {
      method: 'GET',
      path: '/captures/export',
      async handle(req, res, url) {
        const endpoint = url.searchParams.get('endpoint');
        // The first line is read before answering: parameter validation and the endpoint lookup run
        // then, and can still choose the status.
        let lines: AsyncGenerator<string, void, undefined>;
        let first: IteratorResult<string, void>;
        try {
          if (!endpoint) throw new ValidationError('endpoint', 'the endpoint query parameter is required');
          const from = parseIsoDate(url.searchParams.get('from'), 'from');
          const to = parseIsoDate(url.searchParams.get('to'), 'to');
          lines = captures.exportJsonLines(endpoint, { from, to });
          first = await lines.next();
        } catch (error) {
          return sendError(res, error);
        }
        res.writeHead(200, {
          'content-type': 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="${endpoint.replace(/[^\w.-]/g, '_')}-captures.jsonl"`,
          'cache-control': 'no-store',
        });
        if (req.method === 'HEAD' || first.done) {
          await lines.return();
        } else {
          await writeLines(res, prependLine(first.value, lines));
        }
        if (!res.destroyed) res.end();
      },
    },
  ];
}

function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof ValidationError) {
    return sendJson(res, 400, { error: error.message, code: error.code, field: error.field });
  }
  if (error instanceof NotFoundError) {
    return sendJson(res, 404, { error: error.message, code: error.code, resource: error.resource, key: error.key });
  }
  throw error;
}
