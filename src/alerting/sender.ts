/**
 * One HTTP POST of a delivery, bounded every way a receiver could hold the server: connected only to
 * the addresses the destination check resolved (no second DNS answer), a time limit on the whole
 * exchange, at most RESPONSE_BYTES of the response read (the rest discarded with the socket),
 * redirects never followed (a 3xx is the answer), a fresh connection each time (no pooled socket
 * outlives the check).
 */

import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Destination } from './destination.ts';

/** how much of a response is read: enough for a status line's worth of text in the attempt's error */
export const RESPONSE_BYTES = 1024;

export interface SendOutcome {
  /** the response's status; absent when none came (refused, reset, timed out) */
  statusCode?: number;
  /** why no response came, or the start of a non-2xx response's body */
  error?: string;
  /** the response's Retry-After header, as sent */
  retryAfter?: string;
  durationMs: number;
}

/** a lookup that answers only with the checked addresses */
function pinned(destination: Destination): LookupFunction {
  const [first] = destination.addresses;
  return (_hostname, options, callback) => {
    if (options.all) callback(null, destination.addresses);
    else callback(null, first!.address, first!.family);
  };
}

export function post(
  destination: Destination,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<SendOutcome> {
  const started = performance.now();
  const { url } = destination;
  const client = url.protocol === 'https:' ? https : http;
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<SendOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Omit<SendOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...outcome, durationMs: elapsed() });
    };
    const request = client.request({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinned(destination),
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy();
      settle({ error: `no answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    const onAbort = () => {
      request.destroy();
      settle({ error: 'stopped: the server is shutting down' });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let bytes = 0;
      const finish = () => {
        response.destroy();
        const text = Buffer.concat(chunks).subarray(0, RESPONSE_BYTES).toString('utf8').trim();
        const ok = statusCode >= 200 && statusCode < 300;
        const retryAfter = response.headers['retry-after'];
        settle(
          ok
            ? { statusCode }
            : { statusCode, retryAfter, error: describeRefusal(statusCode, response.headers.location, text) },
        );
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes >= RESPONSE_BYTES) finish();
      });
      response.on('end', finish);
      response.on('error', finish);
    });
    request.end(body);
  });
}

function describeRefusal(statusCode: number, location: string | undefined, text: string): string {
  if (statusCode >= 300 && statusCode < 400)
    return `redirect not followed${location ? ` (to ${location.slice(0, 200)})` : ''}`;
  // control characters stripped: the text goes into logs and GraphQL answers
  const shown = [...text.slice(0, 200)].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('');
  return `HTTP ${statusCode}${shown ? `: ${shown}` : ''}`;
}
