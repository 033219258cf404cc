/** Runs vigil as a separate process (`tsx src/main.ts`), as a deployment would, for kill and replica tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `env` may not lower LOG_LEVEL below info: the start line ("listening on …") is how the port is learnt. */
export async function spawnServer(env: Record<string, string>, timeoutMs = 90_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      INFERENCE_DEVICE: 'cpu',
      ...env,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const check = () => {
      const match = /listening on http:\/\/localhost:(\d+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stderr!.on('data', check);
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${log}`));
    });
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => log,
    kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(); // exited, or killed
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    },
  };
}

/**
 * Whether `pid` still runs `afterMs` later. A zombie (killed, waiting for its new parent to reap it)
 * does not: in a container, PID 1 may never reap the orphans it inherits.
 */
export async function stillRunning(pid: number, afterMs = 1000): Promise<boolean> {
  await new Promise((r) => setTimeout(r, afterMs));
  const file = `/proc/${pid}/stat`;
  if (!fs.existsSync(file)) return false;
  const stat = fs.readFileSync(file, 'utf8');
  // the state follows the command's closing parenthesis
  return stat[stat.lastIndexOf(')') + 2] !== 'Z';
}
