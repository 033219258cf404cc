/**
 * `npm test`: the whole suite — unit tests, then the database tests on SQLite and on PostgreSQL.
 * PostgreSQL and Redis are optional on a developer's machine: when one does not answer, the tests that
 * need it are skipped with a message. CI sets VIGIL_REQUIRE_SERVICES=1, which turns a skip into a failure.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { POSTGRES_URL } from './helpers/database.ts';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port) || defaultPort });
    socket.setTimeout(1500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const require = process.env.VIGIL_REQUIRE_SERVICES === '1';
const redisUrl = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const [postgres, redis] = await Promise.all([reachable(POSTGRES_URL, 5432), reachable(redisUrl, 6379)]);
for (const [name, up, url] of [
  ['PostgreSQL', postgres, POSTGRES_URL],
  ['Redis', redis, redisUrl],
] as const) {
  if (up) continue;
  const message = `${name} does not answer at ${url}`;
  if (require) {
    console.error(`${message}, and VIGIL_REQUIRE_SERVICES=1: failing`);
    process.exit(1);
  }
  console.warn(`note: ${message}: the tests that need it are skipped (start it to run them)`);
}

const projects = ['unit', 'browser', 'sqlite', ...(postgres ? ['postgres'] : [])].flatMap((p) => ['--project', p]);
const result = spawnSync('npx', ['vitest', 'run', ...projects, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, VIGIL_TEST_REDIS: redis ? redisUrl : '', VIGIL_TEST_POSTGRES: postgres ? '1' : '' },
});
process.exit(result.status ?? 1);
