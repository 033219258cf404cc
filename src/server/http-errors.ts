/**
 * The one mapping from a failure to its HTTP answer. Plain routes answer an expected failure
 * (`VigilError`) as JSON `{ error, code, ...details }` with the status its code maps to; failures before
 * GraphQL runs (a body over the limit) answer in GraphQL's error shape with the same status; anything
 * else is unexpected: logged whole with a fresh error id, answered 500 with a generic message, code
 * INTERNAL_SERVER_ERROR and the same id, so that a client's report finds the log line. Exception text,
 * SQL and paths stay in the log. A fault of the database (unreachable, locked, full: db/faults.ts) is
 * not unexpected and not the client's: UNAVAILABLE, HTTP 503 with Retry-After, wherever it surfaces
 * (a plain route, or a GraphQL field whose result union does not list UnavailableError).
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { asUnavailable } from '../db/faults.ts';
import {
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  type RequestFailure,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
  VigilError,
} from '../errors.ts';
import { type Logger, logUnexpected } from '../logger.ts';
import { json } from './responses.ts';

export const HTTP_STATUS: Readonly<Record<RequestFailure['code'], number>> = {
  NOT_FOUND: 404,
  VALIDATION: 400,
  CONFLICT: 409,
  // the request's media type (JSON, multipart) is supported; the image inside it is what is wrong
  INVALID_IMAGE: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
};

export function isRequestFailure(error: unknown): error is RequestFailure {
  return (
    error instanceof VigilError ||
    error instanceof PayloadTooLargeError ||
    error instanceof UnauthenticatedError ||
    error instanceof ForbiddenError ||
    error instanceof RateLimitedError
  );
}

/**
 * the headers a failure's status calls for: the scheme a 401 expects (RFC 9110 §11.6.1), the wait of a
 * 429 or a 503
 */
export function failureHeaders(error: RequestFailure): Record<string, string> {
  if (error instanceof UnauthenticatedError) return { 'www-authenticate': 'Bearer realm="vigil"' };
  if (error instanceof RateLimitedError || error instanceof UnavailableError) {
    return { 'retry-after': String(error.retryAfterSeconds) };
  }
  return {};
}

/** an expected failure as a plain route's JSON body: message, code and the fields that locate it */
export function errorBody(error: RequestFailure): Record<string, unknown> {
  const body: Record<string, unknown> = { error: error.message, code: error.code };
  if (error instanceof NotFoundError) Object.assign(body, { resource: error.resource, key: error.key });
  if (error instanceof ValidationError) body.field = error.field;
  if (error instanceof PayloadTooLargeError) body.limit = error.limit;
  if (error instanceof UnavailableError) body.retryAfterSeconds = error.retryAfterSeconds;
  if (error instanceof RateLimitedError) body.retryAfter = error.retryAfterSeconds;
  return body;
}

/** what clients see of an unexpected failure */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error: the server log has the details under this errorId';

/** a plain route's answer to a failure; unexpected ones are logged and masked */
export function errorResponse(error: unknown, logger: Logger, context: Record<string, unknown> = {}): Response {
  const failure = asUnavailable(error) ?? error;
  if (isRequestFailure(failure)) {
    // as for GraphQL (requestError): closing stops Node from reading the rest of a body refused as too large
    const close: Record<string, string> = failure instanceof PayloadTooLargeError ? { connection: 'close' } : {};
    return json(HTTP_STATUS[failure.code], errorBody(failure), { ...failureHeaders(failure), ...close });
  }
  const errorId = logUnexpected(logger, 'request failed', error, context);
  return json(500, { error: INTERNAL_ERROR_MESSAGE, code: 'INTERNAL_SERVER_ERROR', errorId });
}

/** the GraphQL error clients get for an unexpected failure (logged under `errorId`) */
export function internalError(errorId: string, message = INTERNAL_ERROR_MESSAGE): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } });
}

/**
 * An expected failure before GraphQL runs, as the GraphQL error Yoga answers with: the code in
 * `extensions.code`, the status (and headers) in `extensions.http`, which Yoga applies and leaves out
 * of the body.
 */
export function requestError(error: RequestFailure): GraphQLError {
  // Closing the connection after a 413 stops Node from reading (and discarding) the rest of the body.
  const headers: Record<string, string> = {
    ...failureHeaders(error),
    ...(error instanceof PayloadTooLargeError && { connection: 'close' }),
  };
  const details =
    error instanceof RateLimitedError
      ? { retryAfter: error.retryAfterSeconds }
      : error instanceof UnavailableError
        ? { retryAfterSeconds: error.retryAfterSeconds }
        : {};
  return new GraphQLError(error.message, {
    extensions: {
      code: error.code,
      ...details,
      http: { status: HTTP_STATUS[error.code], ...(Object.keys(headers).length && { headers }) },
    },
  });
}

/**
 * A request to /graphql refused before Yoga parses it (no valid key, over the rate limit): GraphQL's
 * error shape, `{ errors: [{ message, extensions: { code } }] }`, with the failure's status and headers.
 */
export function graphqlErrorResponse(error: RequestFailure): Response {
  const details = error instanceof RateLimitedError ? { retryAfter: error.retryAfterSeconds } : {};
  return json(
    HTTP_STATUS[error.code],
    { errors: [{ message: error.message, extensions: { code: error.code, ...details } }] },
    failureHeaders(error),
  );
}

/**
 * Yoga's `maskError` (and graphql-ws's): errors GraphQL itself raises (syntax, validation, limits) and
 * request errors with a 4xx status are meant for the client and pass; anything else is logged whole
 * under an error id and reaches the client as a generic message with code INTERNAL_SERVER_ERROR and
 * that id. The path of a resolver's error is kept: it names the client's own field, nothing internal.
 * A database fault where the field's union has no UnavailableError is answered as one top-level:
 * code UNAVAILABLE, HTTP 503 with Retry-After (Yoga takes the status from `extensions.http`).
 */
export function maskUnexpectedErrors(logger: Logger): (error: unknown, message?: string) => GraphQLError {
  return (error, message = INTERNAL_ERROR_MESSAGE) => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError || isClientError(error)))
      return error;
    const path = error instanceof GraphQLError ? error.path : undefined;
    // Expected, though no result union lists them where they surface, so answered with their code and
    // not logged as failures. Work refused by a bound (load shedding) is not a database fault: the error
    // graphql-js made for this request is given the code and status in place.
    if (error instanceof GraphQLError && original instanceof UnavailableError) {
      Object.assign(error.extensions, requestError(original).extensions);
      return error;
    }
    if (error instanceof GraphQLError && isAbort(original)) {
      // the client went away before its work ran (request.signal): nobody reads this answer
      logger.debug('request cancelled by its client', path ? { path: path.join('.') } : {});
      Object.assign(error.extensions, { code: 'CANCELLED', http: { status: 499 } });
      return error;
    }
    const unavailable = asUnavailable(original ?? error);
    if (unavailable) {
      logger.warn('database unavailable', { path: path?.join('.'), error: original ?? error });
      const http = { status: HTTP_STATUS.UNAVAILABLE, headers: failureHeaders(unavailable) };
      return new GraphQLError(unavailable.message, {
        path,
        extensions: { code: unavailable.code, retryAfterSeconds: unavailable.retryAfterSeconds, http },
      });
    }
    const errorId = logUnexpected(logger, 'unexpected error', original ?? error, path ? { path: path.join('.') } : {});
    return new GraphQLError(message, { path, extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } });
  };
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function isClientError(error: GraphQLError): boolean {
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * Yoga's multipart parser refuses a malformed request (a `map` that is not JSON, a missing `operations`)
 * with errors that have neither a code nor a status, which reached clients as a 200. Anything the request
 * parser refuses without a code is the request's fault: BAD_REQUEST, HTTP 400, as Yoga answers invalid JSON.
 */
export function useTypedRequestParseErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      const parse = requestParser;
      setRequestParser(async (request) => {
        try {
          return await parse(request);
        } catch (error) {
          if (!(error instanceof GraphQLError) || error.extensions.code) throw error;
          throw new GraphQLError(error.message, {
            extensions: { ...error.extensions, code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
