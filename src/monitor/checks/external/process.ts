/**
 * One script run as its own process: no shell (the script's path and its interpreter are the only
 * arguments), its own process group (so a timeout, an abort or its end kills whatever it started too),
 * a time limit, and a bound on what it prints: stdout and stderr are read as they come, only their
 * last bytes kept, and past `maxOutputBytes` in all the process is killed.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface ProcessLimits {
  timeoutMs: number;
  /** stdout and stderr together */
  maxOutputBytes: number;
}

export interface ProcessResult {
  /** null when a signal ended it */
  exitCode: number | null;
  signal: string | null;
  /** killed for running past the time limit */
  timedOut: boolean;
  /** killed for printing more than the limit */
  outputExceeded: boolean;
  /** the spawn itself failed (no interpreter, not executable) */
  startError: string | null;
  /** the last bytes of stderr (and of stdout), as UTF-8 */
  stderrTail: string;
  stdoutTail: string;
  durationMs: number;
}

/** the bytes of stderr kept for the record (its end: where a traceback says what went wrong) */
export const TAIL_BYTES = 4096;
/** after SIGTERM, the time a process group gets before SIGKILL */
const KILL_GRACE_MS = 1000;

/**
 * How a script is run, by its extension: `.py` with python3, `.js`/`.mjs`/`.cjs` with this process's
 * node, anything else executed directly (it needs its executable bit and, for a script, a shebang line).
 */
export function command(script: string): { file: string; args: string[] } {
  const extension = path.extname(script).toLowerCase();
  if (extension === '.py') return { file: 'python3', args: [script] };
  if (extension === '.js' || extension === '.mjs' || extension === '.cjs')
    return { file: process.execPath, args: [script] };
  return { file: script, args: [] };
}

export function runProcess(
  script: string,
  options: { cwd: string; env: Record<string, string>; limits: ProcessLimits; signal?: AbortSignal },
): Promise<ProcessResult> {
  const { file, args } = command(script);
  const started = Date.now();
  const stderr = new Tail(TAIL_BYTES);
  const stdout = new Tail(TAIL_BYTES);
  let printed = 0;
  let timedOut = false;
  let outputExceeded = false;
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      shell: false,
      windowsHide: true,
    });
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.limits.timeoutMs);
    const onAbort = () => stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const read = (tail: Tail) => (chunk: Buffer) => {
      printed += chunk.length;
      tail.push(chunk);
      if (printed > options.limits.maxOutputBytes && !outputExceeded) {
        outputExceeded = true;
        stop();
      }
    };
    child.stdout.on('data', read(stdout));
    child.stderr.on('data', read(stderr));
    let startError: string | null = null;
    let settled = false;
    const finish = (exitCode: number | null, signal: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // whatever the script left running in its group ends with it
      killGroup('SIGKILL');
      resolve({
        exitCode,
        signal,
        timedOut,
        outputExceeded,
        startError,
        stderrTail: stderr.text(),
        stdoutTail: stdout.text(),
        durationMs: Date.now() - started,
      });
    };
    child.on('error', (error) => {
      startError = error.message;
      finish(null, null);
    });
    // 'close' waits for the pipes: a grandchild holding them open is killed with the group on 'exit'
    // (one that left the group keeps them open: its pipes are dropped after a grace period)
    child.on('exit', (code, signal) => {
      killGroup('SIGKILL');
      child.on('close', () => finish(code, signal));
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, KILL_GRACE_MS);
    });
  });
}

/** the last `size` bytes written to it */
class Tail {
  #chunks: Buffer[] = [];
  #length = 0;
  constructor(private readonly size: number) {}

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (this.#chunks.length > 1 && this.#length - this.#chunks[0]!.length >= this.size) {
      this.#length -= this.#chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.#chunks);
    // a cut through a multi-byte character decodes to U+FFFD at the start, which is fine for a tail
    return all.subarray(Math.max(0, all.length - this.size)).toString('utf8');
  }
}
