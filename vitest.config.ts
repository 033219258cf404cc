import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The suite runs twice over the database-backed tests: once on embedded SQLite, once on PostgreSQL.
// Pure unit tests run once.
const databaseTests = ['test/integration/**/*.test.ts', 'test/db/**/*.test.ts'];

export default defineConfig({
  // One copy of graphql: packages that require() it get the CommonJS build, so ESM imports must too
  // ("Cannot use GraphQLObjectType … from another module or realm" otherwise).
  resolve: { alias: { graphql: fileURLToPath(new URL('node_modules/graphql/index.js', import.meta.url)) } },
  test: {
    // 2 cores: files run one or two at a time so timing-sensitive tests are not starved
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // each project inherits the options above (`extends: true`)
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          // pages in headless Chromium (Debian's package), against a server on embedded SQLite
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          env: { VIGIL_TEST_DB: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: databaseTests,
          env: { VIGIL_TEST_DB: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: databaseTests,
          env: { VIGIL_TEST_DB: 'postgres' },
        },
      },
    ],
  },
});
