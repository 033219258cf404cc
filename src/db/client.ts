/**
 * The Prisma client on the database a URL names: better-sqlite3 for `file:` URLs, node-postgres for
 * `postgresql://`. Both generated clients have the same model API; the SQLite one's type is the
 * project's `Db` type (db/prisma.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as PostgresClient } from '../generated/postgres/client.ts';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.ts';
import type { Db } from './prisma.ts';
import { type DatabaseTarget, parseDatabaseUrl } from './url.ts';

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

export interface OpenDatabaseOptions {
  /** called with each SQL statement the client sends (tests count them; off by default: events cost) */
  onQuery?: (sql: string) => void;
}

export function openDatabase(url: string, options: OpenDatabaseOptions = {}): Database {
  const target = parseDatabaseUrl(url);
  const { onQuery } = options;
  const log: { emit: 'event'; level: 'query' }[] = onQuery ? [{ emit: 'event', level: 'query' }] : [];
  let prisma: Db;
  if (target.provider === 'sqlite') {
    fs.mkdirSync(path.dirname(target.file), { recursive: true });
    const client = new SqliteClient({ adapter: sqliteAdapter(target.file), log });
    if (onQuery) client.$on('query', (event) => onQuery(event.query));
    prisma = client;
  } else {
    const client = new PostgresClient({ adapter: postgresAdapter(target), log });
    if (onQuery) client.$on('query', (event) => onQuery(event.query));
    prisma = client as unknown as Db;
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
