import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRAPHQL_ENV_FILE, printGraphqlEnv } from '../../src/schema/graphql-env.ts';
import { printSdl } from '../../src/schema/index.ts';

describe('schema.graphql', () => {
  it('is the schema printed from the code (run `npm run schema:print` after changing types)', () => {
    expect(fs.readFileSync('schema.graphql', 'utf8')).toBe(printSdl());
  });

  it(`has its document types in ${GRAPHQL_ENV_FILE} (run \`npm run schema:print\`)`, async () => {
    // printed from the committed schema.graphql, which the test above holds to the code
    expect(fs.readFileSync(GRAPHQL_ENV_FILE, 'utf8')).toBe(await printGraphqlEnv('schema.graphql'));
  });
});
