/**
 * Plain HTTP routes beside /graphql (health, downloads, images, metrics). Each domain contributes its
 * own; handlers get the parsed URL and write the response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Route {
  method: 'GET' | 'POST';
  /** exact path, or a prefix ending in '/' that matches everything below it */
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
}

export function findRoute(routes: readonly Route[], method: string, pathname: string): Route | undefined {
  return routes.find(
    (r) => (r.method === method || (method === 'HEAD' && r.method === 'GET')) &&
      (r.path.endsWith('/') ? pathname.startsWith(r.path) : pathname === r.path),
  );
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A GraphQL-shaped error for failures that happen before GraphQL runs (e.g. a body over the limit). */
export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string): void {
  const text = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  res.writeHead(status, {
    'content-type': 'application/graphql-response+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  });
  res.end(text);
}
