/**
 * Expected failures, thrown by services and returned to GraphQL clients as typed errors with a stable
 * `code` (see schema/errors.ts). Anything else is unexpected: masked for clients and logged.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'VALIDATION'
  | 'CONFLICT'
  | 'INVALID_IMAGE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAVAILABLE';

export abstract class VigilError extends Error {
  abstract readonly code: ErrorCode;
}

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

export class ValidationError extends VigilError {
  readonly code = 'VALIDATION' as const;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class ConflictError extends VigilError {
  readonly code = 'CONFLICT' as const;
}

export class InvalidImageError extends VigilError {
  readonly code = 'INVALID_IMAGE' as const;
}

export class PayloadTooLargeError extends VigilError {
  readonly code = 'PAYLOAD_TOO_LARGE' as const;
  constructor(
    readonly limit: number,
    message: string,
  ) {
    super(message);
  }
}

export class UnavailableError extends VigilError {
  readonly code = 'UNAVAILABLE' as const;
}
