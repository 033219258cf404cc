/**
 * Plain HTTP routes beside /graphql (downloads, images, metrics), written against the Fetch API: a
 * handler takes the request and its parsed URL and returns the response. Each domain contributes its
 * own, each with the role it requires; `useRoutes` makes them one Yoga plugin, which answers a
 * matching request before GraphQL sees it (403 when the caller's role does not allow the route) and
 * turns a failure into its status through the one mapping (http-errors.ts).
 */
import type { Plugin } from 'graphql-yoga';
import { allows, describeCaller, type Role } from '../auth/roles.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { callerOf, type NodeServerContext } from './authentication.ts';
import { errorResponse } from './http-errors.ts';

export const PUBLIC = 'public';

export interface Route {
  method: 'GET' | 'POST';
  /** exact path ('/' too), or a prefix ending in '/' that matches everything below it */
  path: string;
  /**
   * the role a caller needs (src/auth/roles.ts); required, so that no route is open by omission.
   * PUBLIC: the route serves no data (the dashboard's page and scripts), so it answers without a key
   */
  role: Role | typeof PUBLIC;
  handle(request: Request, url: URL): Response | Promise<Response>;
}

export function useRoutes(
  routes: readonly Route[],
  logger: Logger,
): Plugin<Record<string, unknown>, NodeServerContext> {
  return {
    onRequest({ request, url, serverContext, endResponse }) {
      const route = findRoute(routes, request.method, url.pathname);
      if (!route) return;
      if (route.role === PUBLIC) return answer(route, request, url, logger).then(endResponse);
      const caller = callerOf(serverContext);
      if (caller instanceof Error) return endResponse(errorResponse(caller, logger));
      if (!allows(caller, route.role)) {
        const refusal = new ForbiddenError(
          `${describeCaller(caller)} may not ${request.method} ${route.path}${isPrefix(route.path) ? '…' : ''} (needs ${route.role})`,
        );
        return endResponse(errorResponse(refusal, logger));
      }
      return answer(route, request, url, logger).then(endResponse);
    },
  };
}

/** whether a request for a path may come without a key: a PUBLIC route's (authentication.ts) */
export function publicPaths(routes: readonly Route[]): (pathname: string) => boolean {
  const open = routes.filter((r) => r.role === PUBLIC);
  return (pathname) => open.some((r) => matches(r, pathname));
}

function matches(route: Route, pathname: string): boolean {
  return isPrefix(route.path) ? pathname.startsWith(route.path) : pathname === route.path;
}

const isPrefix = (path: string) => path.length > 1 && path.endsWith('/');

function findRoute(routes: readonly Route[], method: string, pathname: string): Route | undefined {
  return routes.find((r) => (r.method === method || (method === 'HEAD' && r.method === 'GET')) && matches(r, pathname));
}

async function answer(route: Route, request: Request, url: URL, logger: Logger): Promise<Response> {
  try {
    if (holdsNul(url)) {
      // no path segment or parameter takes it, and PostgreSQL cannot compare it (nul-strings.ts)
      throw new ValidationError('url', 'the URL holds %00 (NUL), which no path segment or parameter accepts');
    }
    return await route.handle(request, url);
  } catch (error) {
    return errorResponse(error, logger, { method: request.method, path: url.pathname });
  }
}

/** NUL in the path (only percent-encoded: Node refuses a raw one) or in a decoded query parameter */
function holdsNul(url: URL): boolean {
  if (url.pathname.toLowerCase().includes('%00')) return true;
  for (const [key, value] of url.searchParams) if (key.includes('\u0000') || value.includes('\u0000')) return true;
  return false;
}

/** a percent-encoded path segment, decoded; a malformed escape is the client's error, not a 500 */
export function pathSegment(segment: string, name: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError(name, `${name} is not a valid percent-encoded path segment`);
  }
}

/** a path under a route's prefix that names nothing: 404, saying which paths there are */
export function noRoute(url: URL, usage: string): NotFoundError {
  return new NotFoundError('Route', url.pathname, `no route for ${url.pathname}: use ${usage}`);
}
