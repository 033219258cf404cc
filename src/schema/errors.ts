/**
 * Expected failures as GraphQL types: every one implements `VigilError { code message }`, so a client
 * can select `... on VigilError { code message }` and add fragments for the details it cares about.
 * Each field lists the errors it can raise (builder.ts); nothing is listed by default.
 */
import { GraphQLError } from 'graphql';
import {
  ConflictError,
  InvalidImageError,
  NotFoundError,
  UnavailableError,
  ValidationError,
  type VigilError,
} from '../errors.ts';
import { builder } from './builder.ts';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  values: ['NOT_FOUND', 'VALIDATION', 'CONFLICT', 'INVALID_IMAGE', 'UNAVAILABLE'] as const,
});

export const VigilErrorInterface = builder.interfaceRef<VigilError>('VigilError').implement({
  description: 'An expected failure, with a stable machine-readable code',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'A thing named by the request does not exist',
  interfaces: [VigilErrorInterface],
  fields: (t) => ({
    resource: t.exposeString('resource', { description: 'what kind of thing, e.g. Endpoint' }),
    key: t.exposeString('key', { description: 'the name or id that was asked for' }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An argument is out of its documented range or shape',
  interfaces: [VigilErrorInterface],
  fields: (t) => ({ field: t.exposeString('field', { description: 'the argument at fault, as a dotted path' }) }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'The request contradicts the current state (a name taken, a run in progress)',
  interfaces: [VigilErrorInterface],
});

builder.objectType(InvalidImageError, {
  name: 'InvalidImageError',
  description: 'An image that cannot be read: empty, truncated, of an unknown format, or over the pixel limit',
  interfaces: [VigilErrorInterface],
});

builder.objectType(UnavailableError, {
  name: 'UnavailableError',
  description:
    'The server cannot do this now, through no fault of the request (its database unreachable, locked or full): nothing it was to store was acknowledged; send it again later',
  interfaces: [VigilErrorInterface],
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'when sending the request again may succeed' }),
  }),
});

/**
 * An expected failure where no result union can carry it (a subscription that cannot start): a
 * GraphQL error with the same code and message, which the server passes to the client unmasked.
 */
export function topLevelError(error: VigilError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code } });
}
