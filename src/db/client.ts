/**
 * The Prisma client on the database a URL names: better-sqlite3 for `file:` URLs, node-postgres for
 * `postgresql://`. Both generated clients have the same model API; the SQLite one's type is the
 * project's `Db` type (db/prisma.ts).
 *
 * Faults: a write waits at most `lockTimeoutMs` for a lock another connection holds (SQLite's busy
 * timeout, PostgreSQL's lock_timeout), then fails (UNAVAILABLE, db/faults.ts). node-postgres's pool
 * drops a connection that broke and opens a new one for the next query, so a restarted PostgreSQL is
 * used again without restarting vigil; a connection attempt gives up after CONNECT_TIMEOUT_MS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as PostgresClient } from '../generated/postgres/client.ts';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.ts';
import { type Durability, POSTGRES_SYNCHRONOUS_COMMIT } from './durability.ts';
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

/** how long a write waits for a lock another connection holds, by default */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** how long opening a PostgreSQL connection may take (node-postgres waits forever by default) */
const CONNECT_TIMEOUT_MS = 10_000;

export function sqliteAdapter(file: string, lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS): PrismaBetterSqlite3 {
  return new PrismaBetterSqlite3({ url: file, timeout: lockTimeoutMs }, { timestampFormat: SQLITE_TIMESTAMP_FORMAT });
}

export interface PostgresSessionOptions {
  durability?: Durability;
  lockTimeoutMs?: number;
  /** a pooled connection failed (the server restarted): the pool drops it; this only reports it */
  onConnectionError?: (error: Error) => void;
}

export function postgresAdapter(
  target: Extract<DatabaseTarget, { provider: 'postgresql' }>,
  session: PostgresSessionOptions = {},
): PrismaPg {
  const { durability = 'normal', lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS, onConnectionError } = session;
  // settings every pooled connection starts with
  const settings = [
    `-c search_path="${target.schema}"`,
    `-c synchronous_commit=${POSTGRES_SYNCHRONOUS_COMMIT[durability]}`,
    `-c lock_timeout=${lockTimeoutMs}`,
  ];
  return new PrismaPg(
    {
      connectionString: target.connectionString,
      max: 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      options: settings.join(' '),
    },
    { schema: target.schema, onPoolError: onConnectionError, onConnectionError },
  );
}

export interface OpenDatabaseOptions extends PostgresSessionOptions {
  /** called with each SQL statement the client sends and its duration (tests count them; off by default: events cost) */
  onQuery?: (sql: string, durationMs: number) => void;
}

export function openDatabase(url: string, options: OpenDatabaseOptions = {}): Database {
  const target = parseDatabaseUrl(url);
  const { onQuery } = options;
  const log: { emit: 'event'; level: 'query' }[] = onQuery ? [{ emit: 'event', level: 'query' }] : [];
  let prisma: Db;
  if (target.provider === 'sqlite') {
    fs.mkdirSync(path.dirname(target.file), { recursive: true });
    const client = new SqliteClient({ adapter: sqliteAdapter(target.file, options.lockTimeoutMs), log });
    if (onQuery) client.$on('query', (event) => onQuery(event.query, event.duration));
    prisma = client;
  } else {
    const client = new PostgresClient({ adapter: postgresAdapter(target, options), log });
    if (onQuery) client.$on('query', (event) => onQuery(event.query, event.duration));
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
