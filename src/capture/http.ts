/**
 * GET /captures/export?endpoint=NAME[&from=ISO][&to=ISO][&output=full|class]: an endpoint's captures in [from, to), oldest
 * first, as a SageMaker data-capture JSON Lines download, streamed line by line at the pace the client
 * reads (the body is a pull stream: the next line is read from the database when the client has taken
 * the last). `output=class` writes each endpointOutput.data as the write-up's `[[class]]` (export.ts).
 * 400 for a missing endpoint parameter, an invalid date or output, 404 for an unknown endpoint.
 */
import { ValidationError } from '../errors.ts';
import { isOneOf } from '../guards.ts';
import type { Route } from '../server/routes.ts';
import { EXPORT_OUTPUTS, type ExportOutput, prependLine } from './export.ts';
import { parseIsoDate } from './queries.ts';
import type { CaptureService } from './service.ts';

export function captureRoutes(captures: Pick<CaptureService, 'exportJsonLines'>): Route[] {
  return [
    {
      method: 'GET',
      path: '/captures/export',
      role: 'read',
      async handle(request, url) {
        const endpoint = url.searchParams.get('endpoint');
        if (!endpoint) throw new ValidationError('endpoint', 'the endpoint query parameter is required');
        const from = parseIsoDate(url.searchParams.get('from'), 'from');
        const to = parseIsoDate(url.searchParams.get('to'), 'to');
        const lines = captures.exportJsonLines(
          endpoint,
          { from, to },
          parseOutput(url.searchParams.get('output'), 'output'),
        );
        // The first line is read before answering: parameter validation and the endpoint lookup run
        // then, and can still choose the status.
        const first = await lines.next();
        const headers = {
          'content-type': 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="${endpoint.replace(/[^\w.-]/g, '_')}-captures.jsonl"`,
          'cache-control': 'no-store',
        };
        if (request.method === 'HEAD' || first.done) {
          await lines.return();
          return new Response(null, { status: 200, headers });
        }
        return new Response(lineStream(prependLine(first.value, lines)), { status: 200, headers });
      },
    },
  ];
}

/** `full` (default) or `class`; ValidationError naming `field` for anything else */
export function parseOutput(value: string | null | undefined, field: string): ExportOutput {
  const output = value ?? 'full';
  if (!isOneOf(EXPORT_OUTPUTS, output))
    throw new ValidationError(
      field,
      `${field} must be one of ${EXPORT_OUTPUTS.join(', ')}, got '${output.slice(0, 40)}'`,
    );
  return output;
}

/**
 * Lines as a byte stream that reads its source only when pulled, so a slow client holds the database
 * reads back; cancelled (the client went away), it closes the source.
 */
export function lineStream(lines: AsyncGenerator<string, void, undefined>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(`${next.value}\n`));
    },
    async cancel() {
      await lines.return();
    },
  });
}
