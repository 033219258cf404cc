/**
 * A fresh database for one test file: a SQLite file in a temp dir, or a new schema on the local
 * PostgreSQL server, chosen by VIGIL_TEST_DB (the vitest project sets it).
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export type TestDbKind = 'sqlite' | 'postgres';

export const TEST_DB: TestDbKind = process.env.VIGIL_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
export const POSTGRES_URL = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  kind: TestDbKind;
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: TestDbKind = TEST_DB): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-test-'));
    return {
      url: `file:${path.join(dir, 'vigil.db')}`,
      kind,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `vigil_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    kind,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
