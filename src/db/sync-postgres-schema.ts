// `npm run db:sync-postgres`: prisma/postgres/schema.prisma is prisma/schema.prisma with the PostgreSQL
// datasource and client output. PostgreSQL needs its own schema file (the provider is not an env var).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const sqliteSchemaPath = `${root}prisma/schema.prisma`;
export const postgresSchemaPath = `${root}prisma/postgres/schema.prisma`;

const HEADER = /^\/\/ The vigil data model \(SQLite, the default\).*/;
const GENERATED_HEADER =
  '// GENERATED from prisma/schema.prisma by `npm run db:sync-postgres`: edit that file, not this one.';

/** The PostgreSQL schema text for a SQLite schema text (line by line, as the former sed script). */
export function postgresSchemaFrom(sqliteSchemaText: string): string {
  return sqliteSchemaText
    .split('\n')
    .map((line) =>
      line
        .replace('provider = "sqlite"', 'provider = "postgresql"')
        .replace('../src/generated/sqlite', '../../src/generated/postgres')
        .replace(HEADER, GENERATED_HEADER),
    )
    .join('\n');
}

/** Rewrites prisma/postgres/schema.prisma; returns whether it changed. */
export function syncPostgresSchema(): boolean {
  const next = postgresSchemaFrom(readFileSync(sqliteSchemaPath, 'utf8'));
  if (existsSync(postgresSchemaPath) && readFileSync(postgresSchemaPath, 'utf8') === next) return false;
  writeFileSync(postgresSchemaPath, next);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(syncPostgresSchema() ? `updated ${postgresSchemaPath}` : `${postgresSchemaPath} is up to date`);
}
