/**
 * The Prisma client on the database a URL names: better-sqlite3 for `file:` URLs, node-postgres for
 * `postgresql://`. Both generated clients have the same model API; the SQLite one's type is the
 * project's `Db` type.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.ts';
import { PrismaClient as PostgresClient } from '../generated/postgres/client.ts';
import { parseDatabaseUrl, type DatabaseTarget } from './url.ts';

export type Db = SqliteClient;

export interface Database {
  prisma: Db;
  target: DatabaseTarget;
  provider: DatabaseTarget['provider'];
  /** true when the query succeeds */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** SQLite stores DateTime as epoch milliseconds: compact, and range scans compare integers. */
export const SQLITE_TIMESTAMP_FORMAT = 'unixepoch-ms' as const;

export function sqliteAdapter(file: string): PrismaBetterSqlite3 {
  return new PrismaBetterSqlite3({ url: file, timeout: 10_000 }, { timestampFormat: SQLITE_TIMESTAMP_FORMAT });
}

export function postgresAdapter(target: Extract<DatabaseTarget, { provider: 'postgresql' }>): PrismaPg {
  return new PrismaPg(
    { connectionString: target.connectionString, max: 10, options: `-c search_path="${target.schema}"` },
    { schema: target.schema },
  );
}

export function openDatabase(url: string): Database {
  const target = parseDatabaseUrl(url);
  let prisma: Db;
  if (target.provider === 'sqlite') {
    fs.mkdirSync(path.dirname(target.file), { recursive: true });
    prisma = new SqliteClient({ adapter: sqliteAdapter(target.file) });
  } else {
    prisma = new PostgresClient({ adapter: postgresAdapter(target) }) as unknown as Db;
  }
  return {
    prisma,
    target,
    provider: target.provider,
    async ping() {
      try {
        await prisma.$queryRawUnsafe('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => prisma.$disconnect(),
  };
}
