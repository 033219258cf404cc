import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  InvalidImageError,
  NotFoundError,
  PayloadTooLargeError,
  type RequestFailure,
  UnavailableError,
  ValidationError,
} from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import {
  errorResponse,
  INTERNAL_ERROR_MESSAGE,
  maskUnexpectedErrors,
  requestError,
} from '../../src/server/http-errors.ts';

function recordingLogger(): Logger & { errors: unknown[]; errorIds: unknown[] } {
  const errors: unknown[] = [];
  const errorIds: unknown[] = [];
  const logger = {
    errors,
    errorIds,
    debug() {},
    info() {},
    warn() {},
    error: (_message: string, fields?: Record<string, unknown>) => {
      errors.push(fields?.error);
      errorIds.push(fields?.errorId);
    },
    child: () => logger,
  };
  return logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
    [new UnavailableError('later', 5), 503, { error: 'later', code: 'UNAVAILABLE', retryAfterSeconds: 5 }],
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
      if (error instanceof UnavailableError) {
        expect(response.headers.get('retry-after')).toBe('5');
        expect(graphql.extensions).toMatchObject({ http: { headers: { 'retry-after': '5' } } });
      }
    });
  }

  it('answers a database fault as UNAVAILABLE (503, Retry-After), in a plain route and in GraphQL, unlogged as an error', async () => {
    // what Prisma throws when PostgreSQL is down: the driver adapter's mapped error in meta
    const down = Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), {
      code: 'P1001',
      meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
    });
    const logger = recordingLogger();
    const response = errorResponse(down, logger);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 5 });
    const masked = maskUnexpectedErrors(logger)(new GraphQLError('x', { originalError: down, path: ['captures'] }));
    expect(masked.extensions).toMatchObject({
      code: 'UNAVAILABLE',
      http: { status: 503, headers: { 'retry-after': '5' } },
    });
    expect(masked.path).toEqual(['captures']);
    expect(logger.errors).toEqual([]);
  });

  it('logs anything else under an error id and answers 500 with the id, without its message', async () => {
    const logger = recordingLogger();
    const unexpected = new Error('connection string postgres://user:secret@db');
    const response = errorResponse(unexpected, logger);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { errorId: string };
    expect(body).toEqual({
      error: INTERNAL_ERROR_MESSAGE,
      code: 'INTERNAL_SERVER_ERROR',
      errorId: expect.stringMatching(UUID),
    });
    expect(JSON.stringify(body)).not.toContain('secret');
    expect(logger.errors).toEqual([unexpected]);
    expect(logger.errorIds).toEqual([body.errorId]);
  });

  it('masks unexpected GraphQL errors with an error id matching the log line, and passes the client’s own', () => {
    const logger = recordingLogger();
    const mask = maskUnexpectedErrors(logger);
    const secret = new Error('secret');
    const masked = mask(new GraphQLError('secret', { originalError: secret, path: ['predict'] }), 'Unexpected error.');
    expect(masked.message).toBe('Unexpected error.');
    expect(masked.path).toEqual(['predict']);
    expect(masked.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', errorId: expect.stringMatching(UUID) });
    expect(logger.errors).toEqual([secret]);
    expect(logger.errorIds).toEqual([masked.extensions.errorId]);
    const syntax = new GraphQLError('Syntax Error: Unexpected Name');
    expect(mask(syntax, 'Unexpected error.')).toBe(syntax);
    const tooLarge = requestError(new PayloadTooLargeError(10, 'too large'));
    expect(mask(tooLarge, 'Unexpected error.')).toBe(tooLarge);
  });
});
