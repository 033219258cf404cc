/**
 * The soak's deployment: a private PostgreSQL and a private Redis (the soak kills and restarts them,
 * never the shared ones) and two vigil replicas, each a real server process (`spawnServer`, as
 * `npm start` runs it). A replica may be SIGKILLed and started again: each start is an incarnation,
 * with its own instance id, log and peak RSS.
 */
import fs from 'node:fs';
import { migrateDeploy } from '../../src/db/migrate/index.ts';
import { type PrivatePostgres, privatePostgresMissing, startPostgres } from '../helpers/private-postgres.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type PrivateRedis, privateRedisUnavailable, startRedis } from '../helpers/redis.ts';

/** how long a schedule lease lasts: a killed replica's execution is marked failed within this (plus a tick) */
export const LEASE_MS = 3000;

export interface Incarnation {
  /** INSTANCE_ID: `soak-a`, then `soak-a-2` after a restart */
  instanceId: string;
  server: ServerProcess;
  startedAt: number;
  /** when it was killed or stopped */
  endedAt?: number;
  /** peak resident memory (VmHWM), KiB, at the last sample */
  peakRssKb: number;
  /** how it ended: SIGKILL by the soak, or its exit code after SIGTERM */
  exit?: string;
}

export class Replica {
  readonly incarnations: Incarnation[] = [];

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  /** the running incarnation, undefined while it is down */
  get live(): Incarnation | undefined {
    const last = this.incarnations.at(-1);
    return last && last.endedAt === undefined ? last : undefined;
  }

  async start(): Promise<Incarnation> {
    const n = this.incarnations.length + 1;
    const instanceId = n === 1 ? `soak-${this.name}` : `soak-${this.name}-${n}`;
    const server = await spawnServer({ ...this.env, INSTANCE_ID: instanceId });
    const incarnation: Incarnation = { instanceId, server, startedAt: Date.now(), peakRssKb: 0 };
    this.incarnations.push(incarnation);
    sampleRss(incarnation);
    return incarnation;
  }

  /** SIGKILL: no drain, no goodbye */
  async kill(): Promise<Incarnation> {
    const live = this.live;
    if (!live) throw new Error(`replica ${this.name} is not running`);
    sampleRss(live);
    live.endedAt = Date.now();
    live.exit = 'SIGKILL';
    await live.server.kill('SIGKILL');
    return live;
  }

  /** SIGTERM: the graceful shutdown; records the exit code (0 when it drained in time) */
  async stop(): Promise<void> {
    const live = this.live;
    if (!live) return;
    sampleRss(live);
    live.endedAt = Date.now();
    const { child } = live.server;
    const exited = new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit ${code}`)),
    );
    await live.server.kill('SIGTERM');
    live.exit = child.exitCode !== null ? `exit ${child.exitCode}` : await exited;
  }
}

/** reads VmHWM (the process's peak resident set) into the incarnation; VmHWM only grows, so the last read is the peak */
export function sampleRss(incarnation: Incarnation): void {
  const pid = incarnation.server.child.pid;
  if (pid === undefined || incarnation.endedAt !== undefined) return;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) incarnation.peakRssKb = Math.max(incarnation.peakRssKb, Number(match[1]));
  } catch {
    // exited between the check and the read: the last sample stands
  }
}

export interface Cluster {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  databaseUrl: string;
  replicas: [Replica, Replica];
  /** stops what still runs and removes the database directory */
  destroy(): Promise<void>;
}

/** the incarnations running now */
export function liveIncarnations(cluster: Pick<Cluster, 'replicas'>): Incarnation[] {
  return cluster.replicas.flatMap((r) => (r.live ? [r.live] : []));
}

/** why the soak cannot run here (PostgreSQL or Redis binaries missing), or undefined */
export function clusterMissing(): string | undefined {
  return privatePostgresMissing() ?? (privateRedisUnavailable() || undefined);
}

export async function startCluster(progress: (line: string) => void): Promise<Cluster> {
  const postgres = await startPostgres();
  let redis: PrivateRedis | undefined;
  try {
    redis = await startRedis();
    const databaseUrl = `${postgres.url}?schema=vigil`;
    await migrateDeploy(databaseUrl); // once, before two processes start on the schema
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      // scheduler ticks often, so that a due schedule and an expired lease are seen within a quarter second
      SCHEDULER_INTERVAL_MS: '250',
      MONITOR_LEASE_MS: String(LEASE_MS),
      // two replicas share two cores here: one onnxruntime thread each
      INFERENCE_THREADS: '1',
      // a small bound, so that the stalled subscribers reach it within seconds
      SUBSCRIBER_BUFFER_EVENTS: '64',
    };
    const replicas: [Replica, Replica] = [new Replica('a', env), new Replica('b', env)];
    progress('starting replicas a and b');
    await Promise.all(replicas.map((r) => r.start()));
    const started = redis;
    return {
      postgres,
      redis: started,
      databaseUrl,
      replicas,
      async destroy() {
        await Promise.allSettled(replicas.map((r) => r.live?.server.kill('SIGKILL')));
        await started.kill();
        postgres.destroy();
      },
    };
  } catch (error) {
    await redis?.kill();
    postgres.destroy();
    throw error;
  }
}
