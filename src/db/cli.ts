// Offline replacement for `prisma migrate deploy | dev --name | status` (see src/db/migrate/).
//
//   tsx src/db/cli.ts migrate        apply pending migrations to DATABASE_URL (default file:./data/vigil.db)
//   tsx src/db/cli.ts status         applied / pending migrations of DATABASE_URL (exit 1 if not up to date)
//   tsx src/db/cli.ts create <name>  write prisma/migrations/<ts>_<name>/ (SQLite, diffed on a temporary
//                                    database file) and prisma/postgres/migrations/<ts>_<name>/ (diffed in
//                                    a temporary schema on the server of POSTGRES_URL, or else
//                                    DATABASE_URL_POSTGRES; skipped when neither is set). DATABASE_URL is
//                                    not touched: run `migrate` afterwards.

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPostgresSchema, parseDatabaseUrl, withPostgresSchema } from './migrate/adapters.ts';
import { createMigration, migrateDeploy, migrationStatus } from './migrate/index.ts';
import { postgresSchemaPath, syncPostgresSchema } from './sync-postgres-schema.ts';

const databaseUrl = process.env.DATABASE_URL || 'file:./data/vigil.db';
const log = (line: string) => console.log(line);

async function create(name: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-migrate-'));
  try {
    const sqlite = await createMigration(`file:${join(dir, 'dev.db')}`, name, { log });
    if (!sqlite.directory) log('sqlite: no schema change, no migration');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  if (syncPostgresSchema()) log(`regenerated ${postgresSchemaPath} from prisma/schema.prisma`);
  const server = process.env.POSTGRES_URL || process.env.DATABASE_URL_POSTGRES;
  if (!server) {
    log('postgresql: skipped (set POSTGRES_URL to a PostgreSQL server to create its migration too)');
    return;
  }
  // A throwaway schema, so that the server's data is never diffed against nor touched.
  const url = withPostgresSchema(server, `vigil_migrate_${randomUUID().slice(0, 8)}`);
  const target = parseDatabaseUrl(url);
  if (target.provider !== 'postgresql') throw new Error('POSTGRES_URL must be a postgres(ql):// URL');
  try {
    const postgres = await createMigration(url, name, { log });
    if (!postgres.directory) log('postgresql: no schema change, no migration');
  } finally {
    await dropPostgresSchema(target);
  }
}

async function status(): Promise<boolean> {
  const s = await migrationStatus(databaseUrl);
  const list = (names: string[]) => (names.length ? names.map((n) => `\n  ${n}`).join('') : ' none');
  log(`applied:${list(s.applied)}`);
  log(`pending:${list(s.pending)}`);
  if (s.failed.length) log(`failed:${list(s.failed)}`);
  if (s.edited.length) log(`edited since applied:${list(s.edited)}`);
  if (s.unknown.length) log(`applied but not in the migrations folder:${list(s.unknown)}`);
  return s.pending.length === 0 && s.failed.length === 0 && s.unknown.length === 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'migrate': {
      const { applied } = await migrateDeploy(databaseUrl, { log });
      if (applied.length === 0) log('No pending migrations to apply.');
      return 0;
    }
    case 'create': {
      const name = args.join(' ').trim();
      if (!name) throw new Error('usage: npm run db:migration -- <name>');
      await create(name);
      return 0;
    }
    case 'status':
      return (await status()) ? 0 : 1;
    default:
      console.error('usage: tsx src/db/cli.ts migrate | create <name> | status');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
