/**
 * A PostgreSQL server of the test's own, which the test may stop, start and kill without touching the
 * shared one on 5432 (other test files use it at the same time). initdb refuses root, so the server
 * runs as the `postgres` user, in a temp directory it owns, on a free port, its socket in that
 * directory. Returns undefined when the binaries are missing (the caller skips with a message); with
 * VIGIL_REQUIRE_SERVICES=1 a missing binary is an error instead.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

export interface PrivatePostgres {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** a fast shutdown: open connections are terminated, new ones refused */
  stop(): void;
  start(): void;
  /** SIGKILL of the postmaster: a crash, recovered from the WAL on the next start */
  kill(): void;
  /** stops the server and removes its directory */
  destroy(): void;
}

const PG_ROOT = '/usr/lib/postgresql';

/** the bin folder of the newest installed PostgreSQL, or why there is none */
function pgBin(): string | { missing: string } {
  const versions = fs.existsSync(PG_ROOT)
    ? fs
        .readdirSync(PG_ROOT)
        .filter((v) => fs.existsSync(path.join(PG_ROOT, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) return { missing: `no PostgreSQL under ${PG_ROOT}` };
  if (!fs.existsSync('/usr/sbin/runuser') && !fs.existsSync('/usr/bin/runuser'))
    return { missing: 'runuser is missing' };
  return path.join(PG_ROOT, versions[0]!, 'bin');
}

/** why a private PostgreSQL cannot start here, or undefined when it can */
export function privatePostgresMissing(): string | undefined {
  const bin = pgBin();
  if (typeof bin === 'string') return undefined;
  if (process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`${bin.missing}, and VIGIL_REQUIRE_SERVICES=1`);
  return bin.missing;
}

export async function startPostgres(): Promise<PrivatePostgres> {
  const bin = pgBin();
  if (typeof bin !== 'string') throw new Error(bin.missing);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  execFileSync('chown', ['-R', 'postgres', dir]);
  const asPostgres = (tool: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { stdio: 'pipe' });
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  // small and fast: no fsync (the test is about the connection, not the disk), few connections
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
  const start = () => asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const stop = () => asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  const running = () => fs.existsSync(path.join(data, 'postmaster.pid'));
  start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    kill() {
      const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGKILL');
    },
    destroy() {
      try {
        if (running()) stop();
      } catch {
        // already stopped (or killed): nothing to stop
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
