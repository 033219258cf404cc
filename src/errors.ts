/**
 * Expected failures, thrown by services and returned to GraphQL clients as typed errors with a stable
 * `code` (see schema/errors.ts). Anything else is unexpected: masked for clients and logged.
 */
export type ErrorCode = 'NOT_FOUND' | 'VALIDATION' | 'CONFLICT' | 'INVALID_IMAGE' | 'UNAVAILABLE';

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
 * The server cannot do this now, through no fault of the request: its database unreachable, locked by
 * another writer or out of space. Nothing the request asked to store was acknowledged; the same request
 * may succeed after `retryAfterSeconds` (HTTP 503 with Retry-After where the whole request fails).
 */
export class UnavailableError extends VigilError {
  readonly code = 'UNAVAILABLE' as const;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
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
 * No valid API key (HTTP 401): none sent while keys exist, a malformed Authorization header, or a key
 * that is unknown or revoked. Like the two below, refused before anything runs, so never a union member.
 */
export class UnauthenticatedError extends Error {
  readonly code = 'UNAUTHENTICATED' as const;
}

/** a valid key whose role does not allow what the request asks (HTTP 403) */
export class ForbiddenError extends Error {
  readonly code = 'FORBIDDEN' as const;
}

/** the key (or, when anonymous, the address) is over its rate limit (HTTP 429 with Retry-After) */
export class RateLimitedError extends Error {
  readonly code = 'RATE_LIMITED' as const;
  constructor(
    /** whole seconds until a request would be admitted again */
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/** what a plain HTTP route or the request parser answers with a status of its own */
export type RequestFailure =
  | VigilError
  | PayloadTooLargeError
  | UnauthenticatedError
  | ForbiddenError
  | RateLimitedError;

/** the message of anything thrown (a caught value is `unknown`: not every throw is an Error) */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
