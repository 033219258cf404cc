/**
 * A private Redis for tests that stop and start it (the shared one on 6379 serves other test files at
 * the same time): `redis-server` on a free port, no persistence. `kill()` SIGKILLs it, `start()` starts
 * it again on the same port. Skipped with a message when redis-server is not installed; with
 * VIGIL_REQUIRE_SERVICES=1 the test fails instead.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { freePort } from './ports.ts';

export interface PrivateRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SIGKILL: connections drop without a goodbye, as when the host dies */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** why a private Redis cannot run here, or '' when it can */
export function privateRedisUnavailable(): string {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return '';
  const why = 'redis-server is not installed';
  if (process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`${why}, and VIGIL_REQUIRE_SERVICES=1`);
  return why;
}

export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    if (child) throw new Error('this Redis is running already');
    output = '';
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    started.stdout!.on('data', (d) => (output += d));
    started.stderr!.on('data', (d) => (output += d));
    started.once('exit', () => {
      if (child === started) child = undefined;
    });
    const deadline = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (child !== started) throw new Error(`redis-server exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function signal(name: NodeJS.Signals): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill(name);
    });
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}

/** whether something answers PING with PONG on the port */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
