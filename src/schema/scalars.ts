/**
 * Custom scalars. Parse failures throw plain errors, not GraphQLErrors: graphql-js then prefixes the
 * variable or argument at fault and the expected type ("Variable "$from" got invalid value …").
 */
import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.ts';

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string in UTC',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: (value) => {
    const date = new Date(value as string);
    if (typeof value !== 'string' || Number.isNaN(date.getTime())) {
      throw new TypeError('a DateTime is an ISO-8601 string, e.g. "2026-12-01T14:00:00Z"');
    }
    return date;
  },
  parseLiteral: (ast) => {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : new Date(NaN);
    if (Number.isNaN(date.getTime()))
      throw new TypeError('a DateTime is an ISO-8601 string, e.g. "2026-12-01T14:00:00Z"');
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'A JSON value',
  serialize: (value) => value,
  parseValue: (value) => value,
});

builder.scalarType('File', {
  description: 'A file sent as a GraphQL multipart request (graphql-multipart-request-spec)',
  serialize: () => {
    throw new GraphQLError('File is an input-only scalar');
  },
  parseValue: (value) => {
    if (!isUpload(value)) {
      throw new TypeError('a File is sent as a multipart upload (graphql-multipart-request-spec)');
    }
    return value;
  },
});

/** a multipart upload: Yoga hands over its own File implementation (a ponyfill), so check the shape, not the class */
export function isUpload(value: unknown): value is File {
  return (
    typeof value === 'object' &&
    value !== null &&
    'arrayBuffer' in value &&
    typeof value.arrayBuffer === 'function' &&
    'size' in value &&
    typeof value.size === 'number'
  );
}
