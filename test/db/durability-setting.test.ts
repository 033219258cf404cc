/**
 * DURABILITY and DATABASE_LOCK_TIMEOUT_MS reach the server's database connection: the settings read
 * back from the database the server writes to (SQLite's pragmas on its one connection; PostgreSQL's
 * session settings, which every pooled connection starts with).
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { expectedSetting } from '../../src/db/durability.ts';
import { TEST_DB } from '../helpers/database.ts';
import { startTestServer } from '../helpers/server.ts';

async function readSettings(database: Database): Promise<{ sync: string; lockTimeout: string }> {
  const { prisma } = database;
  if (database.provider === 'sqlite') {
    const [sync] = await prisma.$queryRawUnsafe<{ synchronous: bigint }[]>('PRAGMA synchronous');
    const [busy] = await prisma.$queryRawUnsafe<{ timeout: bigint }[]>('PRAGMA busy_timeout');
    return { sync: String(sync?.synchronous), lockTimeout: String(busy?.timeout) };
  }
  const [sync] = await prisma.$queryRawUnsafe<{ synchronous_commit: string }[]>('SHOW synchronous_commit');
  const [lock] = await prisma.$queryRawUnsafe<{ lock_timeout: string }[]>('SHOW lock_timeout');
  return { sync: String(sync?.synchronous_commit), lockTimeout: String(lock?.lock_timeout) };
}

describe('durability setting', () => {
  it.each([
    ['normal', { sqlite: '1', postgres: 'off' }],
    ['strict', { sqlite: '2', postgres: 'on' }],
  ] as const)('DURABILITY=%s sets the connection as documented', async (durability, expected) => {
    const server = await startTestServer({ env: { DURABILITY: durability, DATABASE_LOCK_TIMEOUT_MS: '2500' } });
    try {
      const { provider } = server.app.database;
      const settings = await readSettings(server.app.database);
      expect(settings.sync).toBe(TEST_DB === 'sqlite' ? expected.sqlite : expected.postgres);
      expect(settings.sync).toBe(expectedSetting(provider, durability));
      expect(settings.lockTimeout).toBe(TEST_DB === 'sqlite' ? '2500' : '2500ms');
    } finally {
      await server.close();
    }
  });
});
