/**
 * Captures as SageMaker Model Monitor data-capture records (JSON Lines, one event per line), so that
 * tools reading SageMaker's capture files read ours:
 *
 *   {"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"<base64>","encoding":"BASE64"},
 *                   "endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"<JSON text>","encoding":"JSON"}},
 *    "eventMetadata":{"eventId":"…","inferenceTime":"2026-11-26T02:00:00.000Z"},"eventVersion":"0"}
 *
 * endpointInput is left out when the input was not captured, endpointOutput when the output was not.
 * An output that is not valid JSON is written BASE64-encoded (its bytes as stored), since "JSON" would
 * promise a parseable payload.
 *
 * `output: 'class'` writes endpointOutput.data as `[[<predicted class>]]`, the response body of the
 * write-up's transform_fn, so its evaluation.py (which reads that shape) reads the export unchanged; a
 * capture without a readable class keeps its stored output.
 */
import type { Writable } from 'node:stream';
import type { CaptureRecord } from './types.ts';

export type CaptureEncoding = 'BASE64' | 'JSON' | 'CSV';

export interface CapturePayload {
  observedContentType: string;
  mode: 'INPUT' | 'OUTPUT';
  data: string;
  encoding: CaptureEncoding;
}

export interface CaptureEvent {
  captureData: { endpointInput?: CapturePayload; endpointOutput?: CapturePayload };
  eventMetadata: { eventId: string; inferenceTime: string };
  eventVersion: '0';
}

/** the content type recorded for an input whose type was not known */
export const UNKNOWN_CONTENT_TYPE = 'application/octet-stream';

/** what endpointOutput.data holds: vigil's JSON output, or the write-up's `[[class]]` */
export const EXPORT_OUTPUTS = ['full', 'class'] as const;
export type ExportOutput = (typeof EXPORT_OUTPUTS)[number];

/** the write-up's response body for one image: `[[14]]` */
export function classBody(predictedClass: number): string {
  return JSON.stringify([[predictedClass]]);
}

export function captureEvent(record: CaptureRecord, output: ExportOutput = 'full'): CaptureEvent {
  const captureData: CaptureEvent['captureData'] = {};
  if (record.inputData) {
    captureData.endpointInput = {
      observedContentType: record.inputContentType ?? UNKNOWN_CONTENT_TYPE,
      mode: 'INPUT',
      data: base64(record.inputData),
      encoding: 'BASE64',
    };
  }
  if (output === 'class' && record.output !== null && record.predictedClass !== null) {
    captureData.endpointOutput = {
      observedContentType: 'application/json',
      mode: 'OUTPUT',
      data: classBody(record.predictedClass),
      encoding: 'JSON',
    };
  } else if (record.output !== null) {
    const json = isJson(record.output);
    captureData.endpointOutput = {
      observedContentType: 'application/json',
      mode: 'OUTPUT',
      data: json ? record.output : Buffer.from(record.output, 'utf8').toString('base64'),
      encoding: json ? 'JSON' : 'BASE64',
    };
  }
  return {
    captureData,
    eventMetadata: { eventId: record.eventId, inferenceTime: record.inferenceTime.toISOString() },
    eventVersion: '0',
  };
}

/** one JSON Lines line, without its newline */
export function captureLine(record: CaptureRecord, output: ExportOutput = 'full'): string {
  return JSON.stringify(captureEvent(record, output));
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes each line and a newline, waiting for 'drain' whenever the stream's buffer is full, so a slow
 * reader holds the producer back instead of the process buffering the whole export. Stops (and closes
 * the source) when the stream is destroyed, e.g. an HTTP client that went away. Resolves to the number
 * of lines written.
 */
export async function writeLines(
  out: Writable,
  lines: AsyncIterable<string> | Iterable<string>,
  onLine?: (count: number) => void,
): Promise<number> {
  let count = 0;
  for await (const line of lines) {
    if (out.destroyed) break;
    const ok = out.write(`${line}\n`);
    count++;
    onLine?.(count);
    if (!ok) await drained(out);
  }
  return count;
}

/** `head` followed by the rest of an iterator that it was read from (closing the rest when stopped) */
export async function* prependLine(head: string, rest: AsyncIterator<string>): AsyncGenerator<string, void, undefined> {
  yield head;
  try {
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

function drained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', failed);
      resolve();
    };
    const failed = (error: Error) => {
      out.off('drain', done);
      out.off('close', done);
      reject(error);
    };
    out.once('drain', done);
    out.once('close', done);
    out.once('error', failed);
  });
}
