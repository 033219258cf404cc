/**
 * What browsers on other sites may do. CORS answers only the origins CORS_ORIGINS lists (exact
 * matches; none by default). Cross-site request forgery: a page elsewhere can make a browser POST a
 * form (url-encoded, multipart or text/plain) without asking the server first, so /graphql executes
 * POSTs of JSON only, which no form can send, and multipart uploads only with a header no form can set
 * (`graphql-require-preflight`, or Yoga's `x-graphql-yoga-csrf`), which makes the browser ask first.
 * GET stays open: Yoga runs no mutation over GET, and without CORS a page elsewhere cannot read the
 * answer (EventSource, which cannot send headers, needs it). The WebSocket, which CORS does not cover,
 * checks its Origin against the same list (websocket.ts).
 */
import { GraphQLError } from 'graphql';
import type { CORSOptions, Plugin } from 'graphql-yoga';

/** any one of these on a multipart request shows it is not a plain form post */
export const PREFLIGHT_HEADERS = ['graphql-require-preflight', 'x-graphql-yoga-csrf'] as const;

/**
 * Yoga's `cors` option: off with no origins listed; otherwise the request's Origin echoed when it is
 * listed, and no CORS headers at all when it is not (the browser then refuses the answer).
 */
export function corsOption(origins: readonly string[]): false | ((request: Request) => CORSOptions | false) {
  if (!origins.length) return false;
  const allowed = new Set(origins);
  return (request) => {
    const origin = request.headers.get('origin');
    if (!origin || !allowed.has(origin)) return false;
    return {
      origin: [origin],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'authorization', ...PREFLIGHT_HEADERS],
      maxAge: 600,
    };
  };
}

/**
 * May a browser page of `origin` open the WebSocket? Yes when the request has no Origin (not a
 * browser), comes from the server's own origin (GraphiQL), or from a listed one.
 */
export function isAllowedOrigin(
  origin: string | undefined,
  host: string | undefined,
  origins: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (origins.includes(origin)) return true;
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host.toLowerCase();
}

/** Refuses GraphQL POSTs that a form on another site could send (see above). */
export function useCsrfPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method !== 'POST') return;
      const type = mediaType(request.headers.get('content-type'));
      if (type === 'application/json') return;
      if (type === 'multipart/form-data') {
        if (PREFLIGHT_HEADERS.some((h) => request.headers.get(h))) return;
        throw refused(
          400,
          'PREFLIGHT_REQUIRED',
          `A multipart request needs a non-empty ${PREFLIGHT_HEADERS[0]} header (a browser form cannot send one, so this keeps other sites' pages from posting here)`,
        );
      }
      throw refused(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `POST /graphql takes application/json, or multipart/form-data for uploads; got ${type || 'no content type'}`,
      );
    },
  };
}

/** the media type of a Content-Type header, lower-case, without parameters */
function mediaType(header: string | null): string {
  if (!header) return '';
  const semicolon = header.indexOf(';');
  return (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

function refused(status: number, code: string, message: string): GraphQLError {
  // the body is not read: closing keeps Node from draining it
  return new GraphQLError(message, { extensions: { code, http: { status, headers: { connection: 'close' } } } });
}
