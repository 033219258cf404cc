// Driver-adapter factories (main + shadow database) for the wasm schema engine, with workarounds for
// what the stock adapters get wrong when the schema engine, not the Prisma client, drives them.

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlQuery } from '@prisma/driver-adapter-utils';
import pg from 'pg';

export type Provider = 'sqlite' | 'postgresql';

export type Target =
  | { provider: 'sqlite'; file: string }
  | { provider: 'postgresql'; pool: pg.PoolConfig; database: string; schema: string };

/** Reads a `file:` (SQLite, relative to the working directory) or `postgres(ql)://` URL. */
export function parseDatabaseUrl(url: string): Target {
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length).replace(/\?.*$/, '');
    if (!path) throw new Error(`No file in SQLite URL: ${url}`);
    return { provider: 'sqlite', file: path === ':memory:' ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
    const schema = u.searchParams.get('schema') || 'public';
    const sslmode = u.searchParams.get('sslmode');
    // Separate fields, not a connectionString: a connectionString would override the shadow's `database`.
    const pool: pg.PoolConfig = {
      host: u.searchParams.get('host') ?? decodeURIComponent(u.hostname || 'localhost'),
      port: u.port ? Number(u.port) : 5432,
      user: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      database,
      ssl:
        !sslmode || sslmode === 'disable' || sslmode === 'prefer'
          ? undefined
          : { rejectUnauthorized: sslmode === 'verify-full' },
      // Unqualified names in migration.sql must land in the URL's schema, as with the native engine.
      options: `-c search_path=${quoteIdent(schema).replace(/([\\ ])/g, '\\$1')}`,
      max: 4,
    };
    return { provider: 'postgresql', pool, database, schema };
  }
  throw new Error(
    `Unsupported database URL (expected file: or postgres(ql)://): ${url.replace(/\/\/[^@/]*@/, '//***@')}`,
  );
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A factory plus `close()`, which disposes whatever connection the engine left open. */
export interface ManagedFactory {
  factory: SqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

export function adapterFactory(target: Target): ManagedFactory {
  return target.provider === 'sqlite' ? sqliteFactory(target.file) : postgresFactory(target);
}

// ---------------------------------------------------------------------------------------------
// Shared: track connections so that they are disposed once, whoever asks first.

function tracked(): { track(adapter: SqlDriverAdapter): SqlDriverAdapter; closeAll(): Promise<void> } {
  const open = new Set<SqlDriverAdapter>();
  return {
    track(adapter) {
      open.add(adapter);
      let disposing: Promise<void> | undefined;
      const dispose = () => {
        open.delete(adapter);
        return (disposing ??= adapter.dispose());
      };
      return overrideMethods(adapter, { dispose });
    },
    async closeAll() {
      for (const adapter of [...open]) await adapter.dispose().catch(() => {});
      open.clear();
    },
  };
}

/** A view of `adapter` with some methods replaced; the others stay bound to the original (private fields). */
function overrideMethods(adapter: SqlDriverAdapter, overrides: Partial<SqlDriverAdapter>): SqlDriverAdapter {
  return new Proxy(adapter, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof SqlDriverAdapter];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// SQLite

function sqliteFactory(file: string): ManagedFactory {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  // unixepoch-ms: `_prisma_migrations` timestamps stored as the native engine stores them (integer ms).
  const inner = new PrismaBetterSqlite3({ url: file }, { timestampFormat: 'unixepoch-ms' }); // shadow: ':memory:'
  const connections = tracked();
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => connections.track(scriptsAsExec(await inner.connect())),
    connectToShadowDb: async () => connections.track(scriptsAsExec(await inner.connectToShadowDb())),
  };
  return { factory, close: () => connections.closeAll() };
}

/**
 * The engine replays migration scripts (several statements) through a parameterless `executeRaw`,
 * which better-sqlite3's `prepare` rejects; `exec` runs a whole script.
 */
function scriptsAsExec(adapter: SqlDriverAdapter): SqlDriverAdapter {
  return overrideMethods(adapter, {
    executeRaw: async (query: SqlQuery) => {
      if (query.args.length > 0) return adapter.executeRaw(query);
      await adapter.executeScript(query.sql);
      return 0;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const CHAR_OID = 18; // PostgreSQL's internal one-byte "char" (pg_class.relkind, pg_constraint.contype, …)
const TEXT_OID = 25;

type QueryResultLike = { fields?: { dataTypeID: number }[] };

function charAsText<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as QueryResultLike | undefined)?.fields ?? []) {
      if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

/**
 * adapter-pg throws UnsupportedNativeDataType on "char" columns, which the engine's catalog queries
 * return; the value is already a one-character string, so reporting it as text is exact.
 */
class CharAsTextClient extends pg.Client {}
// `query` has a dozen overloads that a subclass method cannot restate, so the wrapper is installed on the
// prototype: it forwards whatever arguments it gets and rewrites the result (callback or promise).
const pgQuery = pg.Client.prototype.query;
Object.defineProperty(CharAsTextClient.prototype, 'query', {
  value(this: pg.Client, ...args: unknown[]): unknown {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function')
      args[last] = (err: unknown, res: unknown) => callback(err, err ? res : charAsText(res));
    const result: unknown = Reflect.apply(pgQuery, this, args);
    return isPromiseLike(result) ? result.then(charAsText) : result;
  },
});

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function postgresFactory(target: Extract<Target, { provider: 'postgresql' }>): ManagedFactory {
  const config: pg.PoolConfig = { ...target.pool, Client: CharAsTextClient };
  const inner = new PrismaPg(config, { schema: target.schema });
  const connections = tracked();
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => connections.track(wholeScripts(await inner.connect())),
    connectToShadowDb: async () => connections.track(await connectShadow(config, target.schema)),
  };
  return { factory, close: () => connections.closeAll() };
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/**
 * adapter-pg splits scripts at every `;`, even inside strings, comments or function bodies. One simple
 * query runs the script as PostgreSQL (and the native engine) would: whole, in an implicit transaction.
 */
function wholeScripts(adapter: PgAdapter): SqlDriverAdapter {
  const pool = adapter.underlyingDriver();
  return overrideMethods(adapter, {
    executeScript: async (script: string) => {
      try {
        await pool.query(script);
      } catch (error) {
        (adapter as unknown as { onError(e: unknown): never }).onError(error); // → DriverAdapterError
      }
    },
  });
}

/**
 * A throwaway database with the main one's schema name. adapter-pg's own shadow would point at the
 * main database (connectionString wins over `database`), drop it while its pool still holds
 * connections, and never end its admin pool.
 */
async function connectShadow(config: pg.PoolConfig, schema: string): Promise<SqlDriverAdapter> {
  const database = `prisma_migrate_shadow_db_${randomUUID()}`;
  const admin = new pg.Pool({ ...config, max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const shadowConfig: pg.PoolConfig = { ...config, database };
  const setup = new pg.Client(shadowConfig);
  await setup.connect();
  await setup.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`).finally(() => setup.end());
  const adapter = wholeScripts(await new PrismaPg(shadowConfig, { schema }).connect());
  return overrideMethods(adapter, {
    dispose: async () => {
      await adapter.dispose(); // ends the shadow pool first: PostgreSQL will not drop a database in use
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`).finally(() => admin.end());
    },
  });
}

/** Creates the URL's schema if missing (the engine expects it to exist). */
export async function ensurePostgresSchema(target: Extract<Target, { provider: 'postgresql' }>): Promise<void> {
  const client = new pg.Client(target.pool);
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
  } finally {
    await client.end();
  }
}

/** Drops the URL's schema and everything in it (temporary development schemas, tests). */
export async function dropPostgresSchema(target: Extract<Target, { provider: 'postgresql' }>): Promise<void> {
  const client = new pg.Client(target.pool);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(target.schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** The same PostgreSQL URL with another `?schema=`. */
export function withPostgresSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}
