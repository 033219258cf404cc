// The offline migrator (src/db/migrate/) against real databases: a SQLite file and a fresh PostgreSQL
// schema. Runs on temp copies of the schema + migrations folder, never on the repo's prisma/.

import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MigrateOptions, Provider } from '../../src/db/migrate/index.ts';
import {
  createMigration,
  defaultPaths,
  diffDatabases,
  introspectSchema,
  migrateDeploy,
  migrationStatus,
  schemaDrift,
} from '../../src/db/migrate/index.ts';

// Each case starts engines and (PostgreSQL) shadow databases; vitest's projects do not inherit the root timeout.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const POSTGRES_SERVER = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const skipPostgres = process.env.VIGIL_SKIP_POSTGRES === '1';
if (skipPostgres) console.warn('migrate.test.ts: PostgreSQL cases skipped (VIGIL_SKIP_POSTGRES=1)');

// vitest.config.ts runs test/db once per database (VIGIL_TEST_DB); run alone, cover both.
const selected = process.env.VIGIL_TEST_DB;
const providers: Provider[] = (['sqlite', 'postgresql'] as const).filter(
  (p) => !selected || (selected === 'postgres' ? p === 'postgresql' : p === selected),
);

const PRISMA_COLUMNS = [
  'applied_steps_count',
  'checksum',
  'finished_at',
  'id',
  'logs',
  'migration_name',
  'rolled_back_at',
  'started_at',
];

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: unknown;
  migration_name: string;
  logs: string | null;
  rolled_back_at: unknown;
  started_at: unknown;
  applied_steps_count: number | bigint;
}

/** Databases of one provider: SQLite files in a temp dir, or schemas on the PostgreSQL server. */
interface Fixture {
  newDatabase(label: string): string;
  rows(url: string): Promise<{ columns: string[]; rows: MigrationRow[] }>;
  tables(url: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

function sqliteFixture(dir: string): Fixture {
  const path = (url: string) => url.slice('file:'.length);
  const query = <T>(url: string, sql: string) => {
    const db = new Database(path(url), { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return {
    // a directory that does not exist yet: deploy must create it
    newDatabase: (label) => `file:${join(dir, 'db', label, 'vigil.db')}`,
    rows: async (url) => ({
      columns: query<{ name: string }>(url, `SELECT name FROM pragma_table_info('_prisma_migrations')`).map(
        (c) => c.name,
      ),
      rows: query<MigrationRow>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at'),
    }),
    tables: async (url) =>
      query<{ name: string }>(
        url,
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
      ).map((t) => t.name),
    cleanup: async () => {},
  };
}

function postgresFixture(): Fixture {
  const run = `vigil_mig_${randomBytes(4).toString('hex')}`;
  const schemas: string[] = [];
  const query = async <T>(sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: POSTGRES_SERVER });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const schemaOf = (url: string) => new URL(url).searchParams.get('schema')!;
  return {
    newDatabase(label) {
      const schema = `${run}_${label}`;
      schemas.push(schema);
      const url = new URL(POSTGRES_SERVER);
      url.searchParams.set('schema', schema);
      return url.toString();
    },
    rows: async (url) => ({
      columns: (
        await query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = '_prisma_migrations'`,
          [schemaOf(url)],
        )
      ).map((c) => c.column_name),
      rows: await query<MigrationRow>(`SELECT * FROM "${schemaOf(url)}"._prisma_migrations ORDER BY started_at`),
    }),
    tables: async (url) =>
      (
        await query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`,
          [schemaOf(url)],
        )
      ).map((t) => t.table_name),
    async cleanup() {
      for (const schema of schemas) await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(providers)('migrations on %s', (provider) => {
  const skip = provider === 'postgresql' && skipPostgres;
  let dir: string;
  let fixture: Fixture;
  /** The committed schema + migrations, copied so that tests may add to them. */
  let options: Required<Pick<MigrateOptions, 'schemaPath' | 'migrationsDir'>>;
  let committed: string[];

  beforeAll(() => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'vigil-migrate-test-'));
    fixture = provider === 'sqlite' ? sqliteFixture(dir) : postgresFixture();
    options = { schemaPath: join(dir, 'schema.prisma'), migrationsDir: join(dir, 'migrations') };
    cpSync(defaultPaths[provider].schemaPath, options.schemaPath);
    cpSync(defaultPaths[provider].migrationsDir, options.migrationsDir, { recursive: true });
    committed = migrationDirs(options.migrationsDir);
  });

  afterAll(async () => {
    if (skip) return;
    await fixture.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const migrationDirs = (d: string) =>
    readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();

  it.skipIf(skip)('the committed migrations folder has an init migration and a lockfile for the provider', () => {
    expect(committed.length).toBeGreaterThan(0);
    expect(committed[0]).toMatch(/^\d{14}_init$/);
    expect(readFileSync(join(options.migrationsDir, 'migration_lock.toml'), 'utf8')).toBe(
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`,
    );
  });

  it.skipIf(skip)(
    'deploys a fresh database, recording Prisma’s _prisma_migrations rows; a second deploy changes nothing',
    async () => {
      const url = fixture.newDatabase('deploy');
      const before = await migrationStatus(url, options);
      expect(before).toMatchObject({ applied: [], pending: committed, hasMigrationsTable: false });

      const { applied } = await migrateDeploy(url, options);
      expect(applied).toEqual(committed);
      expect(await fixture.tables(url)).toEqual(
        expect.arrayContaining(['Endpoint', 'Capture', 'Metric', '_prisma_migrations']),
      );

      const { columns, rows } = await fixture.rows(url);
      expect([...columns].sort()).toEqual(PRISMA_COLUMNS);
      expect(rows.map((r) => r.migration_name)).toEqual(committed);
      for (const row of rows) {
        const script = readFileSync(join(options.migrationsDir, row.migration_name, 'migration.sql'), 'utf8');
        expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(row.checksum).toBe(sha256(script));
        expect(row.logs).toBeNull();
        expect(row.rolled_back_at).toBeNull();
        expect(Number(row.applied_steps_count)).toBe(1);
        expect(row.finished_at).not.toBeNull();
        expect(row.started_at).not.toBeNull();
        expect(toMillis(row.finished_at)).toBeGreaterThanOrEqual(toMillis(row.started_at));
      }

      expect(await migrateDeploy(url, options)).toEqual({ applied: [] });
      expect((await fixture.rows(url)).rows).toEqual(rows);
      expect(await migrationStatus(url, options)).toMatchObject({
        applied: committed,
        pending: [],
        failed: [],
        edited: [],
      });
      expect(await schemaDrift(url, options)).toBe('');
    },
  );

  it.skipIf(skip)('creates nothing when the schema has not changed', async () => {
    const result = await createMigration(fixture.newDatabase('unchanged'), 'nothing', options);
    expect(result).toEqual({ directory: null, sql: '' });
    expect(migrationDirs(options.migrationsDir)).toEqual(committed);
  });

  it.skipIf(skip)(
    'creates a migration from a schema change, and a database deployed from the folder matches the dev one',
    async () => {
      writeFileSync(
        options.schemaPath,
        readFileSync(options.schemaPath, 'utf8').replace(
          '  hookStepCounter    Int      @default(0)\n',
          '  hookStepCounter    Int      @default(0)\n  owner String?\n',
        ) +
          '\nmodel Note {\n  id        String   @id\n  text      String\n  createdAt DateTime @default(now())\n\n  @@index([createdAt])\n}\n',
      );
      const dev = fixture.newDatabase('dev');
      const { directory, sql } = await createMigration(dev, 'Add notes', options);

      expect(directory).toMatch(/[/\\]\d{14}_add_notes$/);
      expect(migrationDirs(options.migrationsDir)).toEqual([...committed, directory!.split(/[/\\]/).pop()]);
      expect(readFileSync(join(directory!, 'migration.sql'), 'utf8')).toBe(sql);
      expect(sql).toContain('CREATE TABLE "Note"');
      expect(sql).toContain('CREATE INDEX "Note_createdAt_idx"');
      expect(sql).toMatch(/"owner" TEXT/);
      expect(sql).not.toContain('CREATE TABLE "Capture"'); // only the change

      const devStatus = await migrationStatus(dev, options);
      expect(devStatus).toMatchObject({ pending: [], applied: [...committed, directory!.split(/[/\\]/).pop()] });
      expect(await fixture.tables(dev)).toContain('Note');

      // A second run on the same dev database finds nothing left to do.
      expect(await createMigration(dev, 'again', options)).toEqual({ directory: null, sql: '' });

      const deployed = fixture.newDatabase('fromfolder');
      expect((await migrateDeploy(deployed, options)).applied).toHaveLength(committed.length + 1);
      expect(await diffDatabases(deployed, dev)).toBe('');
      expect(await diffDatabases(dev, deployed)).toBe('');
      expect(await introspectSchema(deployed)).toBe(await introspectSchema(dev));
      expect(await schemaDrift(deployed, options)).toBe('');

      // The comparison is not vacuous: a database behind the folder differs.
      const behind = fixture.newDatabase('behind');
      await migrateDeploy(behind, { ...options, migrationsDir: defaultPaths[provider].migrationsDir });
      expect(await diffDatabases(behind, dev)).toContain('"Note"');
    },
  );

  if (provider === 'postgresql') {
    it.skipIf(skip)('drops its shadow databases', async () => {
      const server = new pg.Client({ connectionString: POSTGRES_SERVER });
      await server.connect();
      try {
        const { rows } = await server.query(
          `SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`,
        );
        expect(rows).toEqual([]);
      } finally {
        await server.end();
      }
    });
  }
});

function toMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value);
  return Date.parse(String(value));
}
