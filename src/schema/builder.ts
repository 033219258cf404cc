/**
 * The Pothos schema builder. Each domain adds its types in its own schema.ts; schema/index.ts imports
 * them all and builds the schema. Services and per-request loaders come through the context.
 *
 * Result types follow one convention (docs/api.md, "Errors"):
 * - a field that fetches one thing by its key (`endpoint(name)`, `capture(id)`, …) is nullable: null
 *   means "there is no such thing", and it raises nothing;
 * - every other field that can fail returns a union of its result and exactly the errors it can raise
 *   (there are no default error types), named `<Field>Result` on the root types and
 *   `<Parent><Field>Result` elsewhere; a thing named by an argument that does not exist is a
 *   NotFoundError there.
 */
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import type { GraphQLContext } from '../context.ts';

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);
const capitalise = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** `predict` on Mutation → `PredictResult`; `saliency` on Capture → `CaptureSaliencyResult` */
export function resultTypeName({ parentTypeName, fieldName }: { parentTypeName: string; fieldName: string }): string {
  return `${ROOT_TYPES.has(parentTypeName) ? '' : parentTypeName}${capitalise(fieldName)}Result`;
}

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
    defaultTypes: [],
    directResult: true,
    defaultUnionOptions: { name: resultTypeName },
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
