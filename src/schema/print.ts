/** Writes schema.graphql (`npm run schema:print`); a test fails when the committed file is stale. */
import fs from 'node:fs';
import path from 'node:path';
import { printSdl } from './index.ts';

const target = path.resolve(process.argv[2] ?? 'schema.graphql');
fs.writeFileSync(target, printSdl());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
