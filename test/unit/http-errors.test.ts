import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  InvalidImageError,
  NotFoundError,
  PayloadTooLargeError,
  type RequestFailure,
  ValidationError,
} from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { errorResponse, maskUnexpectedErrors, requestError } from '../../src/server/http-errors.ts';

function recordingLogger(): Logger & { errors: unknown[] } {
  const errors: unknown[] = [];
  const logger = {
    errors,
    debug() {},
    info() {},
    warn() {},
    error: (_message: string, fields?: Record<string, unknown>) => void errors.push(fields?.error),
    child: () => logger,
  };
  return logger;
}

describe('the error-to-status mapping', () => {
  const cases: [RequestFailure, number, Record<string, unknown>][] = [
    [
      new NotFoundError('Endpoint', 'ghost'),
      404,
      { error: "Endpoint 'ghost' does not exist", code: 'NOT_FOUND', resource: 'Endpoint', key: 'ghost' },
    ],
    [
      new ValidationError('from', 'from must be an ISO date'),
      400,
      { error: 'from must be an ISO date', code: 'VALIDATION', field: 'from' },
    ],
    [new InvalidImageError('not an image'), 400, { error: 'not an image', code: 'INVALID_IMAGE' }],
    [new PayloadTooLargeError(10, 'too large'), 413, { error: 'too large', code: 'PAYLOAD_TOO_LARGE', limit: 10 }],
    [new ConflictError('exists'), 409, { error: 'exists', code: 'CONFLICT' }],
  ];

  for (const [error, status, body] of cases) {
    it(`answers ${error.code} with ${status} and its fields`, async () => {
      const logger = recordingLogger();
      const response = errorResponse(error, logger);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual(body);
      expect(logger.errors).toEqual([]);
      // the same status before GraphQL runs, in GraphQL's error shape
      const graphql = requestError(error);
      expect(graphql.message).toBe(error.message);
      expect(graphql.extensions).toMatchObject({ code: error.code, http: { status } });
    });
  }

  it('logs anything else and answers 500 without its message', async () => {
    const logger = recordingLogger();
    const unexpected = new Error('connection string postgres://user:secret@db');
    const response = errorResponse(unexpected, logger);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'internal error' });
    expect(logger.errors).toEqual([unexpected]);
  });

  it('masks unexpected GraphQL errors and passes the client’s own', () => {
    const logger = recordingLogger();
    const mask = maskUnexpectedErrors(logger);
    const secret = new Error('secret');
    const masked = mask(new GraphQLError('secret', { originalError: secret }), 'Unexpected error.');
    expect(masked.message).toBe('Unexpected error.');
    expect(logger.errors).toEqual([secret]);
    const syntax = new GraphQLError('Syntax Error: Unexpected Name');
    expect(mask(syntax, 'Unexpected error.')).toBe(syntax);
    const tooLarge = requestError(new PayloadTooLargeError(10, 'too large'));
    expect(mask(tooLarge, 'Unexpected error.')).toBe(tooLarge);
  });
});
