// Prisma CLI configuration. The CLI wants a native schema engine before `generate`, which cannot be
// downloaded offline; `generate` never runs it, so any existing file satisfies the check. Migrations
// do not use the CLI here: `npm run db:migrate` drives the wasm schema engine (src/db/migrate/).

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);

const postgres = process.env.PRISMA_PROVIDER === 'postgresql';

export default defineConfig({
  schema: postgres ? 'prisma/postgres/schema.prisma' : 'prisma/schema.prisma',
  migrations: { path: postgres ? 'prisma/postgres/migrations' : 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'file:./data/vigil.db' },
});
