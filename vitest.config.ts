import { defineConfig } from 'vitest/config';

// The suite runs twice over the database-backed tests: once on embedded SQLite, once on PostgreSQL.
// Pure unit tests run once.
const databaseTests = ['test/integration/**/*.test.ts', 'test/db/**/*.test.ts'];

// projects do not inherit the root's timeouts
const timeouts = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // 2 cores: files run one or two at a time so timing-sensitive tests are not starved
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...timeouts,
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          ...timeouts,
          name: 'sqlite',
          include: databaseTests,
          env: { VIGIL_TEST_DB: 'sqlite' },
        },
      },
      {
        test: {
          ...timeouts,
          name: 'postgres',
          include: databaseTests,
          env: { VIGIL_TEST_DB: 'postgres' },
        },
      },
    ],
  },
});
