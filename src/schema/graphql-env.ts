/**
 * `src/graphql-env.d.ts`: the schema's introspection as TypeScript types. gql.tada's `graphql()` (src/graphql.ts)
 * reads it to type each document's result and variables, so `tsc` checks documents against schema.graphql.
 * Written with schema.graphql by `npm run schema:print`; the output is what `gql-tada generate-output` writes for
 * the tsconfig plugin entry (same loader, same minified, preprocessed .d.ts). A test fails when it is stale.
 */
import { loadFromSDL, minifyIntrospection, outputIntrospectionFile } from 'gql.tada/internal';

/** where the types go; tsconfig.json's gql.tada plugin entry names the same file (`tadaOutputLocation`) */
export const GRAPHQL_ENV_FILE = 'src/graphql-env.d.ts';

/** The contents of graphql-env.d.ts for the SDL in `schemaFile`. */
export async function printGraphqlEnv(schemaFile: string): Promise<string> {
  const { introspection } = await loadFromSDL({ file: schemaFile }).load();
  return outputIntrospectionFile(minifyIntrospection(introspection), { fileType: '.d.ts', shouldPreprocess: true });
}
