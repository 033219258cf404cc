/**
 * Another connection that holds the database's write lock (SQLite: a write transaction on the file;
 * PostgreSQL: a SHARE lock on the tables requests insert into, Capture and Adversarial), as a backup tool
 * or a second writer would. The server's writes wait for it up to DATABASE_LOCK_TIMEOUT_MS, then fail.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { parseDatabaseUrl } from '../../src/db/url.ts';

/** takes the lock; resolves to what releases it */
export async function holdWriteLock(databaseUrl: string): Promise<() => Promise<void>> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.provider === 'sqlite') {
    const connection = new Database(target.file);
    connection.exec('BEGIN IMMEDIATE');
    return async () => {
      connection.exec('ROLLBACK');
      connection.close();
    };
  }
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE "${target.schema}"."Capture", "${target.schema}"."Adversarial" IN SHARE MODE`);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}
