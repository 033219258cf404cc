/** `npm run soak` arguments: how long the traffic runs, how many clients send it. */

export interface SoakOptions {
  /** seconds of traffic; the faults are placed in proportion (a replica killed at ~30 %, Redis restarted at ~65 %) */
  durationS: number;
  /** concurrent predict clients (each alternates between the replicas) */
  clients: number;
  /** seconds between two firings of the schedules */
  scheduleEveryS: number;
}

export const DEFAULT_OPTIONS: SoakOptions = { durationS: 100, clients: 4, scheduleEveryS: 3 };

export const USAGE = `npm run soak -- [--duration <s>] [--clients <n>] [--schedule-every <s>]

Runs two vigil replicas (real server processes) on a private PostgreSQL and a private Redis with mixed
predict/predictBatch traffic, healthy and stalled subscribers (graphql-ws and SSE) and monitoring
schedules fired every few seconds; midway it SIGKILLs one replica and restarts it, later it restarts
Redis. Then it reconciles against the database and prints a summary table and a final JSON line.
Exits 1 on any loss or mismatch, 2 on bad arguments, 3 when it cannot run here.

  --duration <s>        seconds of traffic (default ${DEFAULT_OPTIONS.durationS}; starting and checking add ~40 s)
  --clients <n>         concurrent predict clients (default ${DEFAULT_OPTIONS.clients})
  --schedule-every <s>  seconds between firings of the monitoring schedules (default ${DEFAULT_OPTIONS.scheduleEveryS})
  --help                this text

Needs PostgreSQL binaries (/usr/lib/postgresql/*/bin, run as the postgres user: start it as root) and redis-server.`;

export class UsageError extends Error {}

/** parsed options, or 'help' */
export function parseOptions(argv: readonly string[]): SoakOptions | 'help' {
  const options = { ...DEFAULT_OPTIONS };
  const number = (flag: string, raw: string | undefined, min: number, max: number): number => {
    const value = Number(raw);
    if (raw === undefined || !Number.isFinite(value) || value < min || value > max)
      throw new UsageError(`${flag}: expected a number from ${min} to ${max}, got ${raw ?? 'nothing'}`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--duration':
        options.durationS = number(flag, value(), 10, 86_400);
        break;
      case '--clients':
        options.clients = Math.round(number(flag, value(), 1, 64));
        break;
      case '--schedule-every':
        options.scheduleEveryS = number(flag, value(), 1, 60);
        break;
      default:
        throw new UsageError(`unknown argument '${arg}'`);
    }
  }
  return options;
}
