/**
 * The one mapping from a failure to its HTTP answer. Plain routes answer an expected failure
 * (`VigilError`) as JSON `{ error, code, ...details }` with the status its code maps to; failures before
 * GraphQL runs (a body over the limit) answer in GraphQL's error shape with the same status; anything
 * else is unexpected: logged whole, answered 500 with a generic message.
 */
import { GraphQLError } from 'graphql';
import { NotFoundError, PayloadTooLargeError, type RequestFailure, ValidationError, VigilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { json } from './responses.ts';

export const HTTP_STATUS: Readonly<Record<RequestFailure['code'], number>> = {
  NOT_FOUND: 404,
  VALIDATION: 400,
  CONFLICT: 409,
  // the request's media type (JSON, multipart) is supported; the image inside it is what is wrong
  INVALID_IMAGE: 400,
  PAYLOAD_TOO_LARGE: 413,
};

/** an expected failure as a plain route's JSON body: message, code and the fields that locate it */
export function errorBody(error: RequestFailure): Record<string, unknown> {
  const body: Record<string, unknown> = { error: error.message, code: error.code };
  if (error instanceof NotFoundError) Object.assign(body, { resource: error.resource, key: error.key });
  if (error instanceof ValidationError) body.field = error.field;
  if (error instanceof PayloadTooLargeError) body.limit = error.limit;
  return body;
}

/** a plain route's answer to a failure; unexpected ones are logged and masked */
export function errorResponse(error: unknown, logger: Logger, context: Record<string, unknown> = {}): Response {
  if (error instanceof VigilError || error instanceof PayloadTooLargeError)
    return json(HTTP_STATUS[error.code], errorBody(error));
  logger.error('request failed', { ...context, error });
  return json(500, { error: 'internal error' });
}

/**
 * An expected failure before GraphQL runs, as the GraphQL error Yoga answers with: the code in
 * `extensions.code`, the status (and headers) in `extensions.http`, which Yoga applies and leaves out
 * of the body.
 */
export function requestError(error: RequestFailure): GraphQLError {
  // Closing the connection after a 413 stops Node from reading (and discarding) the rest of the body.
  const headers = error instanceof PayloadTooLargeError ? { connection: 'close' } : undefined;
  return new GraphQLError(error.message, {
    extensions: { code: error.code, http: { status: HTTP_STATUS[error.code], ...(headers && { headers }) } },
  });
}

/**
 * Yoga's `maskError`: errors GraphQL itself raises (syntax, validation, limits) and request errors
 * with a 4xx status are meant for the client and pass; anything else is logged whole and reaches the
 * client as a generic message.
 */
export function maskUnexpectedErrors(logger: Logger): (error: unknown, message: string) => Error {
  return (error, message) => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError || isClientError(error)))
      return error;
    logger.error('unexpected error in a resolver', { error: original ?? error });
    return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}

function isClientError(error: GraphQLError): boolean {
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  return status !== undefined && status >= 400 && status < 500;
}
