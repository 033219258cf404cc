/**
 * Expected failures as GraphQL types: every one implements `VigilError { code message }`, so a client
 * can select `... on VigilError { code message }` and add fragments for the details it cares about.
 */
import {
  ConflictError,
  InvalidImageError,
  NotFoundError,
  PayloadTooLargeError,
  UnavailableError,
  ValidationError,
  type VigilError,
} from '../errors.ts';
import { builder } from './builder.ts';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  values: ['NOT_FOUND', 'VALIDATION', 'CONFLICT', 'INVALID_IMAGE', 'PAYLOAD_TOO_LARGE', 'UNAVAILABLE'] as const,
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
  interfaces: [VigilErrorInterface],
  fields: (t) => ({
    resource: t.exposeString('resource'),
    key: t.exposeString('key'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [VigilErrorInterface],
  fields: (t) => ({ field: t.exposeString('field', { description: 'the input field at fault, as a dotted path' }) }),
});

builder.objectType(ConflictError, { name: 'ConflictError', interfaces: [VigilErrorInterface] });
builder.objectType(InvalidImageError, { name: 'InvalidImageError', interfaces: [VigilErrorInterface] });
builder.objectType(PayloadTooLargeError, {
  name: 'PayloadTooLargeError',
  interfaces: [VigilErrorInterface],
  fields: (t) => ({ limit: t.exposeFloat('limit', { description: 'the limit that was exceeded' }) }),
});
builder.objectType(UnavailableError, { name: 'UnavailableError', interfaces: [VigilErrorInterface] });
