import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSdl } from '../../src/schema/index.ts';

describe('schema.graphql', () => {
  it('is the schema printed from the code (run `npm run schema:print` after changing types)', () => {
    expect(fs.readFileSync('schema.graphql', 'utf8')).toBe(printSdl());
  });
});
