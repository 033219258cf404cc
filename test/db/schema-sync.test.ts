// prisma/postgres/schema.prisma is generated (npm run db:sync-postgres); it must not drift from the source.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { postgresSchemaFrom, postgresSchemaPath, sqliteSchemaPath } from '../../src/db/sync-postgres-schema.ts';

describe('prisma/postgres/schema.prisma', () => {
  it('is generated from prisma/schema.prisma (run `npm run db:sync-postgres`)', () => {
    expect(readFileSync(postgresSchemaPath, 'utf8')).toBe(postgresSchemaFrom(readFileSync(sqliteSchemaPath, 'utf8')));
  });

  it('differs only in the header, datasource provider and client output', () => {
    const postgres = postgresSchemaFrom(readFileSync(sqliteSchemaPath, 'utf8'));
    expect(postgres).toContain('provider = "postgresql"');
    expect(postgres).toContain('output       = "../../src/generated/postgres"');
    expect(postgres).not.toContain('"sqlite"');
    expect(postgres.split('\n')[0]).toMatch(/^\/\/ GENERATED from prisma\/schema\.prisma/);
  });
});
