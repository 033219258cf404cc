/**
 * Model Monitor's ground-truth JSON Lines, read as a stream: one record per line,
 *
 *   {"groundTruthData":{"data":"14","encoding":"CSV"},"eventMetadata":{"eventId":"…"},"eventVersion":"0"}
 *
 * Lines are split on the newline byte as the body arrives (no regular expression, no buffering of the
 * body): a line over `maxLineBytes` is skipped to its end and reported, a body over `maxBytes` or with
 * more than `maxLines` lines is refused whole (PayloadTooLargeError, before anything is stored). Each
 * line costs at most one JSON.parse of `maxLineBytes`.
 */
import { PayloadTooLargeError } from '../errors.ts';

export interface LineLimits {
  maxBytes: number;
  maxLines: number;
  maxLineBytes: number;
}

/** a line of the body (1-based number), or the mark of one that was too long to read */
export type BodyLine = { line: number; text: string } | { line: number; problem: string };

const NEWLINE = 0x0a;

/** the body's lines, blank ones left out; throws PayloadTooLargeError past a limit */
export async function* readLines(body: ReadableStream<Uint8Array>, limits: LineLimits): AsyncGenerator<BodyLine> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  let overlong = false;
  let lineNumber = 0;
  let total = 0;
  const finish = (): BodyLine | null => {
    lineNumber++;
    if (lineNumber > limits.maxLines) {
      throw new PayloadTooLargeError(limits.maxLines, `the body holds more than ${limits.maxLines} lines`);
    }
    const bytes = concat(parts, partBytes);
    const wasOverlong = overlong;
    [parts, partBytes, overlong] = [[], 0, false];
    if (wasOverlong) return { line: lineNumber, problem: `the line is longer than ${limits.maxLineBytes} bytes` };
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { line: lineNumber, problem: 'the line is not valid UTF-8' };
    }
    return text.trim() === '' ? null : { line: lineNumber, text };
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limits.maxBytes) {
        throw new PayloadTooLargeError(
          limits.maxBytes,
          `Request body exceeds the limit of ${limits.maxBytes} bytes (MAX_BODY_BYTES)`,
        );
      }
      let start = 0;
      for (;;) {
        const newline = value.indexOf(NEWLINE, start);
        const end = newline < 0 ? value.byteLength : newline;
        if (!overlong) {
          if (partBytes + end - start > limits.maxLineBytes) {
            [parts, partBytes, overlong] = [[], 0, true];
          } else if (end > start) {
            parts.push(value.subarray(start, end));
            partBytes += end - start;
          }
        }
        if (newline < 0) break;
        const line = finish();
        if (line) yield line;
        start = newline + 1;
      }
    }
    if (partBytes > 0 || overlong) {
      const line = finish();
      if (line) yield line;
    }
  } finally {
    // a refused body is not read to its end
    await reader.cancel().catch(() => undefined);
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** one Model Monitor ground-truth record: its event id and label, or what is wrong with it */
export function parseGroundTruthLine(text: string): { eventId: string; label: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the line is not JSON';
  }
  if (!isRecord(value)) return 'the line is not a JSON object';
  const truth = value.groundTruthData;
  if (!isRecord(truth)) return 'groundTruthData is missing or not an object';
  const encoding = truth.encoding ?? 'CSV';
  if (encoding !== 'CSV' && encoding !== 'JSON') return "groundTruthData.encoding must be 'CSV' or 'JSON'";
  if (typeof truth.data !== 'string') return 'groundTruthData.data must be a string';
  const label = encoding === 'CSV' ? truth.data.trim() : jsonLabel(truth.data);
  if (label === null) return 'groundTruthData.data (JSON) must hold a class number or a class name';
  const metadata = value.eventMetadata;
  if (!isRecord(metadata) || typeof metadata.eventId !== 'string') return 'eventMetadata.eventId must be a string';
  return { eventId: metadata.eventId, label };
}

/** a JSON-encoded label: a whole number or a string */
function jsonLabel(data: string): string | null {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value);
    return null;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
