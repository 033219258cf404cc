/**
 * The first thing every request meets (after Yoga's own /healthz, CORS preflights and GraphiQL's page,
 * none of which reveal or change anything): who is calling, from the Authorization header, and their
 * rate limit. A request without a valid key is answered 401 with `WWW-Authenticate: Bearer` before its
 * body is read; one over its limit 429 with `Retry-After`. /readyz stays open to probes; its details
 * go to admins only (health.ts). The caller's identity rides on the server context into the GraphQL
 * context and the plain routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Admission, Gate } from '../auth/gate.ts';
import type { Identity } from '../auth/roles.ts';
import { type RequestFailure, UnauthenticatedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { errorResponse, graphqlErrorResponse } from './http-errors.ts';
import type { KeyHoldings } from './key-holdings.ts';

/** what Yoga's Node request listener passes to every plugin, and the caller this plugin adds */
export interface NodeServerContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** set by useAuthentication for every request it lets through */
  identity?: Identity;
}

export interface AuthenticationOptions {
  gate: Gate;
  graphqlEndpoint: string;
  /** paths any caller may reach; the identity is still resolved when a valid key comes with the request */
  isOpenPath(pathname: string): boolean;
  holdings: KeyHoldings;
  logger: Logger;
}

export function useAuthentication(options: AuthenticationOptions): Plugin<Record<string, unknown>, NodeServerContext> {
  const { gate, graphqlEndpoint, isOpenPath, holdings, logger } = options;
  const refuse = (pathname: string, error: RequestFailure) =>
    pathname === graphqlEndpoint ? graphqlErrorResponse(error) : errorResponse(error, logger);
  const admit = (admission: Admission, payload: RequestPayload): void => {
    const { request, url, serverContext, endResponse } = payload;
    if (isOpenPath(url.pathname)) {
      if (!(admission instanceof UnauthenticatedError)) serverContext.identity = admission;
      return;
    }
    if (admission instanceof UnauthenticatedError) {
      endResponse(refuse(url.pathname, admission));
      return;
    }
    const limited = gate.admit(admission);
    if (limited) {
      endResponse(refuse(url.pathname, limited));
      return;
    }
    serverContext.identity = admission;
    // An event stream lives as long as the client keeps it: a revoked key's must end with the key.
    if (admission.kind === 'key' && request.headers.get('accept')?.includes('text/event-stream')) {
      const { res } = serverContext;
      const release = holdings.hold(admission.keyName, () => res.destroy());
      res.once('close', release);
    }
  };
  return {
    // synchronous unless the keys are being reloaded: no promise on the path of every request
    onRequest(payload) {
      const address = payload.serverContext.req.socket.remoteAddress ?? 'unknown';
      const admission = gate.identify(payload.request.headers.get('authorization'), address);
      if (admission instanceof Promise) return admission.then((a) => admit(a, payload));
      admit(admission, payload);
    },
  };
}

/** what the plugin reads of Yoga's onRequest payload */
interface RequestPayload {
  request: Request;
  url: URL;
  serverContext: NodeServerContext;
  endResponse(response: Response): void;
}

/** the caller the authentication plugin resolved; a request without one is refused (fail closed) */
export function callerOf(context: { identity?: Identity | undefined }): Identity | UnauthenticatedError {
  return context.identity ?? new UnauthenticatedError('the request was not authenticated');
}
