/**
 * The Pothos schema builder. Each domain adds its types in its own schema.ts; schema/index.ts imports
 * them all and builds the schema. Services come through the context, never as module state.
 */
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { GraphQLContext } from '../services.ts';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    File: { Input: File; Output: never };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  relay: { clientMutationId: 'omit', cursorType: 'String' },
  errors: {
    // Every field that handles errors returns these as typed members of its result union.
    defaultTypes: [ValidationError, NotFoundError, ConflictError],
    directResult: true,
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
