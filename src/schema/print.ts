/**
 * Writes schema.graphql and, from it, src/graphql-env.d.ts, the types of typed documents (`npm run schema:print`);
 * a test fails when either committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GRAPHQL_ENV_FILE, printGraphqlEnv } from './graphql-env.ts';
import { printSdl } from './index.ts';

const target = path.resolve(process.argv[2] ?? 'schema.graphql');
fs.writeFileSync(target, printSdl());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
fs.writeFileSync(GRAPHQL_ENV_FILE, await printGraphqlEnv(target));
console.log(`wrote ${GRAPHQL_ENV_FILE}`);
