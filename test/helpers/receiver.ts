/**
 * A local HTTP receiver for alert deliveries: records every request (headers and the exact body bytes)
 * and answers as the test sets it: a status, a redirect, a huge body, or never.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** how the receiver answers the next requests */
export type Behaviour =
  | { status: number; location?: string; retryAfter?: string; body?: string }
  /** accepts the request and never answers */
  | { hang: true }
  /** a 200 whose body is this many bytes */
  | { hugeBody: number };

export interface Receiver {
  url: string;
  received: Received[];
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export async function startReceiver(behaviour: Behaviour = { status: 200 }): Promise<Receiver> {
  let current = behaviour;
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const now = current;
      if ('hang' in now) {
        hanging.add(response);
        return;
      }
      if ('hugeBody' in now) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        const block = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const write = () => {
          while (sent < now.hugeBody) {
            sent += block.length;
            if (!response.write(block)) return void response.once('drain', write);
          }
          response.end();
        };
        response.on('error', () => {});
        write();
        return;
      }
      response.writeHead(now.status, {
        ...(now.location && { location: now.location }),
        ...(now.retryAfter && { 'retry-after': now.retryAfter }),
      });
      response.end(now.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    behave(next) {
      current = next;
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** what a receiver does with `X-Vigil-Signature`: HMAC-SHA256 of the exact body, compared in constant time */
export function signatureValid(secret: string, body: string, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(body, 'utf8').digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
