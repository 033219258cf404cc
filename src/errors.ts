/**
 * Expected failures, thrown by services and returned to GraphQL clients as typed errors with a stable
 * `code` (see schema/errors.ts). Anything else is unexpected: masked for clients and logged.
 */
export type ErrorCode = 'NOT_FOUND' | 'VALIDATION' | 'CONFLICT' | 'INVALID_IMAGE';

export abstract class VigilError extends Error {
  abstract readonly code: ErrorCode;
}

/** a thing named by the request does not exist */
export class NotFoundError extends VigilError {
  readonly code = 'NOT_FOUND' as const;
  constructor(
    readonly resource: string,
    readonly key: string,
    message = `${resource} '${key}' does not exist`,
  ) {
    super(message);
  }
}

/** an argument is out of its documented range or shape; `field` is its dotted path */
export class ValidationError extends VigilError {
  readonly code = 'VALIDATION' as const;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** the request contradicts the current state (a name taken, a run in progress) */
export class ConflictError extends VigilError {
  readonly code = 'CONFLICT' as const;
}

/** an image that cannot be read: empty, truncated, an unknown format, or over the pixel limit */
export class InvalidImageError extends VigilError {
  readonly code = 'INVALID_IMAGE' as const;
}

/**
 * A request refused before GraphQL runs (HTTP 413), so never a member of a result union: clients see
 * its code in `extensions.code` of a top-level error.
 */
export class PayloadTooLargeError extends Error {
  readonly code = 'PAYLOAD_TOO_LARGE' as const;
  constructor(
    readonly limit: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The server cannot take this work now (a queue at its bound, the server shutting down); the same
 * request may succeed after `retryAfterSeconds`. HTTP 503 with a Retry-After header. Thrown where
 * a field's result union does not list it, it reaches clients as a top-level error with this code.
 */
export class UnavailableError extends Error {
  readonly code = 'UNAVAILABLE' as const;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** what a plain HTTP route or the request parser answers with a status of its own */
export type RequestFailure = VigilError | PayloadTooLargeError | UnavailableError;

/** the message of anything thrown (a caught value is `unknown`: not every throw is an Error) */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
