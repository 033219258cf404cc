import fs from 'node:fs';
import { getNamedType, isListType, isNonNullType, isObjectType, isUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { GRAPHQL_ENV_FILE, printGraphqlEnv } from '../../src/schema/graphql-env.ts';
import { buildSchema, printSdl } from '../../src/schema/index.ts';

describe('schema.graphql', () => {
  it('is the schema printed from the code (run `npm run schema:print` after changing types)', () => {
    expect(fs.readFileSync('schema.graphql', 'utf8')).toBe(printSdl());
  });

  it(`has its document types in ${GRAPHQL_ENV_FILE} (run \`npm run schema:print\`)`, async () => {
    // printed from the committed schema.graphql, which the test above holds to the code
    expect(fs.readFileSync(GRAPHQL_ENV_FILE, 'utf8')).toBe(await printGraphqlEnv('schema.graphql'));
  });

  it('names each result union after its field, never after Query, Mutation or Subscription (docs/api.md "Naming")', () => {
    const schema = buildSchema();
    const roots = new Set(['Query', 'Mutation', 'Subscription']);
    const wrong: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (/^(Query|Mutation|Subscription)./.test(type.name)) wrong.push(`${type.name}: named after a root type`);
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        const union = getNamedType(field.type);
        if (!isUnionType(union)) continue;
        const unwrapped = isNonNullType(field.type) ? field.type.ofType : field.type;
        const capitalised = field.name[0]!.toUpperCase() + field.name.slice(1);
        // a list's items are named for the items of their parent (PredictBatch.predictions: PredictBatchItem);
        // every saliency field shares one SaliencyResult
        const expected = isListType(unwrapped)
          ? `${type.name}Item`
          : field.name === 'saliency'
            ? 'SaliencyResult'
            : roots.has(type.name)
              ? `${capitalised}Result`
              : `${type.name}${capitalised}Result`;
        if (union.name !== expected) wrong.push(`${type.name}.${field.name}: ${union.name}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
