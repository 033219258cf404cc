/**
 * POST /ground-truth: Model Monitor's ground-truth JSON Lines (json-lines.ts), merged with the captures
 * by eventId. Answers 200 with what it did, line by line:
 *
 *   {"lines":3,"stored":2,"failed":1,"failures":[{"line":2,"code":"NOT_FOUND","message":"…"}],"failuresOmitted":0}
 *
 * A body over MAX_BODY_BYTES or with more than MAX_LINES lines is refused whole (413), before anything
 * is stored; any other bad line is reported and the rest stored. Role `invoke`: the labels come from
 * the application that sent the predictions (it holds their ids), which needs no access to other
 * callers' captures; an admin key may send them too. The media type must be JSON Lines (a type a
 * browser cannot send cross-origin without a preflight, which CORS_ORIGINS then governs).
 */
import { PayloadTooLargeError, ValidationError } from '../errors.ts';
import { json } from '../server/responses.ts';
import type { Route } from '../server/routes.ts';
import { type LineLimits, parseGroundTruthLine, readLines } from './json-lines.ts';
import type { GroundTruthService } from './service.ts';
import { MAX_GROUND_TRUTH_ITEMS } from './types.ts';

/** lines a body may hold, and bytes a line may hold (a Model Monitor record is about 150) */
export const MAX_LINES = 100_000;
export const MAX_LINE_BYTES = 4096;
/** failures listed in the answer (the rest are counted in failuresOmitted) */
const MAX_FAILURES_LISTED = 100;
const MEDIA_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/json-lines'];

interface LineFailure {
  line: number;
  code: string;
  message: string;
}

export function groundTruthRoutes(
  groundTruth: Pick<GroundTruthService, 'put'>,
  limits: { maxBodyBytes: number },
): Route[] {
  const lineLimits: LineLimits = { maxBytes: limits.maxBodyBytes, maxLines: MAX_LINES, maxLineBytes: MAX_LINE_BYTES };
  return [
    {
      method: 'POST',
      path: '/ground-truth',
      role: 'invoke',
      async handle(request) {
        const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (!MEDIA_TYPES.includes(mediaType)) {
          throw new ValidationError(
            'content-type',
            `the body must be JSON Lines: content-type ${MEDIA_TYPES.join(' or ')}`,
          );
        }
        const declared = Number(request.headers.get('content-length') ?? 0);
        if (declared > lineLimits.maxBytes) {
          // refused unread (the answer closes the connection): as readLines refuses once the body passes the limit
          throw new PayloadTooLargeError(
            lineLimits.maxBytes,
            `Request body exceeds the limit of ${lineLimits.maxBytes} bytes (MAX_BODY_BYTES)`,
          );
        }
        const failures: LineFailure[] = [];
        const entries: { line: number; eventId: string; label: string }[] = [];
        let lines = 0;
        if (request.body) {
          for await (const read of readLines(request.body, lineLimits)) {
            lines++;
            if ('problem' in read) {
              failures.push({ line: read.line, code: 'VALIDATION', message: read.problem });
              continue;
            }
            const parsed = parseGroundTruthLine(read.text);
            if (typeof parsed === 'string') failures.push({ line: read.line, code: 'VALIDATION', message: parsed });
            else entries.push({ line: read.line, ...parsed });
          }
        }
        let stored = 0;
        // in order, a batch at a time: a later line for the same capture wins
        for (let i = 0; i < entries.length; i += MAX_GROUND_TRUTH_ITEMS) {
          const batch = entries.slice(i, i + MAX_GROUND_TRUTH_ITEMS);
          const outcomes = await groundTruth.put(
            batch.map((e) => ({ capture: { eventId: e.eventId }, label: e.label })),
            (k) => `line ${batch[k]!.line}`,
          );
          outcomes.forEach((outcome, k) => {
            if (outcome instanceof Error)
              failures.push({ line: batch[k]!.line, code: outcome.code, message: outcome.message });
            else stored++;
          });
        }
        failures.sort((a, b) => a.line - b.line);
        return json(200, {
          lines,
          stored,
          failed: failures.length,
          failures: failures.slice(0, MAX_FAILURES_LISTED),
          failuresOmitted: Math.max(0, failures.length - MAX_FAILURES_LISTED),
        });
      },
    },
  ];
}
