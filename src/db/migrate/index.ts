// Prisma migrations without the Prisma CLI: the wasm schema engine over driver adapters. The folders and
// the `_prisma_migrations` table are the ones `prisma migrate dev/deploy` produce, so both tools mix.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Provider, Target } from './adapters.ts';
import { adapterFactory, ensurePostgresSchema, parseDatabaseUrl } from './adapters.ts';
import type { HistoryDiagnostic, MigrationList, SchemaEngine, SchemaFile } from './engine.ts';
import { engineError, keepAlive, openEngine } from './engine.ts';
import { migrationNames, readMigrationsList, writeMigration } from './migrations.ts';

export type { Provider };
export { parseDatabaseUrl };

export interface MigrateOptions {
  /** Prisma schema to migrate to (default: the provider's schema under prisma/). */
  schemaPath?: string;
  /** Migrations folder (default: the provider's folder under prisma/). */
  migrationsDir?: string;
  /** Progress lines; engine log lines too when `VIGIL_MIGRATE_DEBUG` is set. */
  log?: (line: string) => void;
}

const root = fileURLToPath(new URL('../../../', import.meta.url));

export const defaultPaths: Record<Provider, { schemaPath: string; migrationsDir: string }> = {
  sqlite: { schemaPath: `${root}prisma/schema.prisma`, migrationsDir: `${root}prisma/migrations` },
  postgresql: {
    schemaPath: `${root}prisma/postgres/schema.prisma`,
    migrationsDir: `${root}prisma/postgres/migrations`,
  },
};

const NO_FILTER = { externalTables: [], externalEnums: [] };

interface Session {
  engine: SchemaEngine;
  target: Target;
  schema: SchemaFile;
  migrations: () => Promise<MigrationList>;
  log: (line: string) => void;
}

/** Opens an engine on the database (creating its SQLite directory or PostgreSQL schema) and closes it after. */
function withEngine<T>(
  databaseUrl: string,
  options: MigrateOptions,
  run: (s: Session) => Promise<T>,
  schemaFile?: SchemaFile,
): Promise<T> {
  return keepAlive(() => openSession(databaseUrl, options, run, schemaFile));
}

async function openSession<T>(
  databaseUrl: string,
  options: MigrateOptions,
  run: (s: Session) => Promise<T>,
  schemaFile?: SchemaFile,
): Promise<T> {
  const target = parseDatabaseUrl(databaseUrl);
  const paths = { ...defaultPaths[target.provider], ...definedOnly(options) };
  const schema = schemaFile ?? { path: paths.schemaPath, content: await readFile(paths.schemaPath, 'utf8') };
  const log = options.log ?? (() => {});
  if (target.provider === 'postgresql') await ensurePostgresSchema(target);
  const managed = adapterFactory(target);
  let engine: SchemaEngine | undefined;
  try {
    const engineLog = process.env.VIGIL_MIGRATE_DEBUG ? (line: string) => log(`engine: ${line}`) : undefined;
    engine = await openEngine(schema, managed.factory, engineLog);
    return await run({ engine, target, schema, migrations: () => readMigrationsList(paths.migrationsDir), log });
  } catch (error) {
    throw engineError(error);
  } finally {
    engine?.free();
    await managed.close();
  }
}

function definedOnly(options: MigrateOptions): { schemaPath?: string; migrationsDir?: string } {
  return {
    ...(options.schemaPath ? { schemaPath: options.schemaPath } : {}),
    ...(options.migrationsDir ? { migrationsDir: options.migrationsDir } : {}),
  };
}

/** `prisma migrate deploy`: applies the pending migrations of the URL's provider. */
export async function migrateDeploy(databaseUrl: string, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  return withEngine(databaseUrl, options, async ({ engine, migrations, log }) => {
    const { appliedMigrationNames } = await engine.applyMigrations({
      migrationsList: await migrations(),
      filters: NO_FILTER,
    });
    for (const name of appliedMigrationNames) log(`applied ${name}`);
    return { applied: appliedMigrationNames };
  });
}

/** `prisma migrate dev --name`: the Prisma CLI's slug of a migration name. */
export function migrationSlug(name: string): string {
  return name
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z\d]+)/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z\d]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200);
}

/**
 * `prisma migrate dev --name <name>`: brings the development database at `databaseUrl` up to the
 * migrations folder, writes the migration from there to the schema (none when nothing changed) and
 * applies it. Refuses (like the CLI) when the database drifted and would need a reset.
 */
export async function createMigration(
  databaseUrl: string,
  name: string,
  options: MigrateOptions = {},
): Promise<{ directory: string | null; sql: string }> {
  return withEngine(databaseUrl, options, async ({ engine, schema, migrations, log }) => {
    // Applying first also creates `_prisma_migrations`, without which the SQLite connector's
    // devDiagnostic/createMigration fail with P1014.
    await engine.applyMigrations({ migrationsList: await migrations(), filters: NO_FILTER });
    const list = await migrations();
    const { action } = await engine.devDiagnostic({ migrationsList: list, filters: NO_FILTER });
    if (action.tag === 'reset') {
      throw new Error(`The development database must be reset before creating a migration: ${action.reason}`);
    }
    const schemas = { files: [schema] };
    const loss = await engine.evaluateDataLoss({ migrationsList: list, schema: schemas, filters: NO_FILTER });
    if (loss.unexecutableSteps.length > 0) {
      throw new Error(
        `The migration cannot be applied:\n${loss.unexecutableSteps.map((s) => `  • ${s.message}`).join('\n')}`,
      );
    }
    for (const warning of loss.warnings) log(`warning: ${warning.message}`);
    const created = await engine.createMigration({
      migrationName: migrationSlug(name),
      draft: false,
      migrationsList: list,
      schema: schemas,
      filters: NO_FILTER,
    });
    if (created.migrationScript === null) return { directory: null, sql: '' };
    const directory = await writeMigration(list, {
      name: created.generatedMigrationName,
      script: created.migrationScript,
      extension: created.extension,
      connectorType: created.connectorType,
    });
    log(`created ${directory}`);
    await engine.applyMigrations({ migrationsList: await migrations(), filters: NO_FILTER });
    return { directory, sql: created.migrationScript };
  });
}

export interface MigrationStatus {
  /** Migrations of the folder, in order. */
  local: string[];
  /** Applied to the database (including ones missing from the folder). */
  applied: string[];
  /** In the folder, not applied yet. */
  pending: string[];
  /** Applied but missing from the folder. */
  unknown: string[];
  failed: string[];
  /** Applied, but their migration.sql changed since. */
  edited: string[];
  hasMigrationsTable: boolean;
}

/** `prisma migrate status`, as data. */
export async function migrationStatus(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrationStatus> {
  return withEngine(databaseUrl, options, async ({ engine, migrations }) => {
    const list = await migrations();
    const local = migrationNames(list);
    const diagnosis = await engine
      .diagnoseMigrationHistory({ migrationsList: list, optInToShadowDatabase: false, filters: NO_FILTER })
      .catch((error: unknown) => {
        // A never-migrated database: the adapter-backed connectors fail instead of reporting no table.
        if ((error as { code?: unknown }).code === 'P1014') return null;
        throw error;
      });
    if (!diagnosis?.hasMigrationsTable) {
      return { local, applied: [], pending: local, unknown: [], failed: [], edited: [], hasMigrationsTable: false };
    }
    const { unapplied, unpersisted } = historyLists(diagnosis.history);
    const failed = diagnosis.failedMigrationNames;
    const applied = [...local.filter((n) => !unapplied.includes(n) && !failed.includes(n)), ...unpersisted];
    return {
      local,
      applied,
      pending: unapplied,
      unknown: unpersisted,
      failed,
      edited: diagnosis.editedMigrationNames,
      hasMigrationsTable: true,
    };
  });
}

function historyLists(history: HistoryDiagnostic | null): { unapplied: string[]; unpersisted: string[] } {
  if (!history) return { unapplied: [], unpersisted: [] };
  switch (history.diagnostic) {
    case 'databaseIsBehind':
      return { unapplied: history.unappliedMigrationNames, unpersisted: [] };
    case 'migrationsDirectoryIsBehind':
      return { unapplied: [], unpersisted: history.unpersistedMigrationNames };
    case 'historiesDiverge':
      return { unapplied: history.unappliedMigrationNames, unpersisted: history.unpersistedMigrationNames };
  }
}

/**
 * The SQL that would bring the database to the schema (`prisma migrate diff --from-config-datasource
 * --to-schema`); empty when they match. Tests use it to compare deployed and development databases.
 */
export async function schemaDrift(databaseUrl: string, options: MigrateOptions = {}): Promise<string> {
  return withEngine(databaseUrl, options, async ({ engine, schema }) => {
    const { stdout } = await engine.diff({
      from: { tag: 'schemaDatasource', files: [schema], configDir: root },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return isEmptyScript(stdout) ? '' : (stdout ?? '');
  });
}

/** The Prisma schema of what the database holds (`prisma db pull` onto a bare datasource block). */
export async function introspectSchema(databaseUrl: string): Promise<string> {
  const provider = parseDatabaseUrl(databaseUrl).provider;
  const bare = {
    path: `${root}prisma/introspected.prisma`,
    content: `datasource db {\n  provider = "${provider}"\n}\n`,
  };
  return withEngine(
    databaseUrl,
    {},
    async ({ engine }) => {
      const result = await engine.introspect({
        schema: { files: [bare] },
        baseDirectoryPath: root,
        force: true,
        compositeTypeDepth: -1,
        namespaces: null,
      });
      return result.schema.files.map((f) => f.content).join('\n');
    },
    bare,
  );
}

/**
 * The SQL that would turn database `fromUrl` into database `toUrl` (the engine diffs the first against
 * the introspected second: the wasm engine no longer diffs two URLs); empty when they match.
 */
export async function diffDatabases(fromUrl: string, toUrl: string): Promise<string> {
  const to = { path: `${root}prisma/introspected.prisma`, content: await introspectSchema(toUrl) };
  return withEngine(
    fromUrl,
    {},
    async ({ engine }) => {
      const { stdout } = await engine.diff({
        from: { tag: 'schemaDatasource', files: [to], configDir: root },
        to: { tag: 'schemaDatamodel', files: [to] },
        script: true,
        exitCode: null,
        filters: NO_FILTER,
      });
      return isEmptyScript(stdout) ? '' : (stdout ?? '');
    },
    to,
  );
}

/** The engine's script for "no change" is a comment only. */
function isEmptyScript(script: string | null): boolean {
  return !script || script.split('\n').every((line) => !line.trim() || line.trim().startsWith('--'));
}
