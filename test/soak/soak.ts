/**
 * The soak itself: the cluster, traffic, subscribers and schedules firing every few seconds
 * (schedules.ts), the two faults on a timeline proportional to the duration, then the reconciliation
 * (verdict.ts, reconcile.ts).
 */
import { type Database, openDatabase } from '../../src/db/client.ts';
import { graphql } from '../../src/graphql.ts';
import { expectTypename, GraphQLClient } from '../helpers/graphql.ts';
import { CREATE_SCHEDULE } from '../helpers/monitor.ts';
import { sleep } from '../helpers/wait.ts';
import { type Cluster, type Incarnation, liveIncarnations, sampleRss, startCluster } from './cluster.ts';
import { type Flood, startFlood } from './flood.ts';
import type { SoakOptions } from './options.ts';
import { droppedSubscribers, untilFanoutBack, untilStalledDropped } from './probes.ts';
import {
  type CaptureCheck,
  DELIVERY_SLACK_MS,
  type Interval,
  type ScheduleCheck,
  type SessionCheck,
} from './reconcile.ts';
import { finalRuns, fireSchedules, holdsLease, SCHEDULES } from './schedules.ts';
import {
  drainStalled,
  type Session,
  STALLED_SUBSCRIPTIONS,
  type StalledSubscriber,
  subscribeHealthy,
  subscribeStalled,
} from './subscribers.ts';
import { failedCount, newTrafficStats, startTraffic, type TrafficStats } from './traffic.ts';
import { processProblems, reconcile, stalledProblems } from './verdict.ts';

const CREATE_ENDPOINTS = graphql(`
  mutation SoakCreateEndpoints {
    soak: createEndpoint(input: { name: "soak", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
    busy: createEndpoint(input: { name: "soak-busy" }) { __typename }
  }
`);
/** events a second on the busy topic of the stalled subscribers (flood.ts) */
const FLOOD_PER_SECOND = 20;

export interface SoakReport {
  ok: boolean;
  problems: string[];
  seconds: { traffic: number; total: number };
  requests: { sent: number; ok: number; failed: Record<string, number>; skippedWhileDown: number; images: number };
  captures: CaptureCheck;
  schedules: ScheduleCheck[];
  alerts: { published: number; publishedJustBeforeKill: number; sessions: SessionCheck[] };
  predictionEvents: { sessions: SessionCheck[] };
  /** events published on the stalled subscribers' busy topic, and what became of each stalled subscriber */
  stalled: {
    busyEvents: number;
    /** the replicas' own count of subscribers dropped as too slow (vigil_event_bus_dropped_subscribers_total) */
    droppedByReplica: Record<string, number>;
    subscribers: { instanceId: string; transport: string; dropped: boolean; outcome: string }[];
  };
  faults: {
    killed: string;
    killedMidExecution: boolean;
    killAtS: number;
    restartS: number;
    redisDownS: number;
    fanoutDown: { fromS: number; toS: number }[];
  };
  replicas: { instanceId: string; peakRssMiB: number; exit: string }[];
}

export async function runSoak(options: SoakOptions, progress: (line: string) => void): Promise<SoakReport> {
  const t0 = Date.now();
  const cluster = await startCluster(progress);
  const db = openDatabase(cluster.databaseUrl);
  const timers: NodeJS.Timeout[] = [];
  const sessions: Session[] = [];
  const stalled: StalledSubscriber[] = [];
  let flood: Flood | undefined;
  try {
    const [a] = cluster.replicas;
    const admin = new GraphQLClient(`${a.live!.server.url}/graphql`);
    const created = await admin.data(CREATE_ENDPOINTS);
    expectTypename(created.soak, 'Endpoint');
    expectTypename(created.busy, 'Endpoint');
    for (const input of SCHEDULES)
      expectTypename((await admin.data(CREATE_SCHEDULE, { input })).createMonitoringSchedule, 'MonitoringSchedule');

    const subscribe = async (incarnation: Incarnation) => {
      sessions.push(...(await subscribeHealthy(incarnation)));
      stalled.push(...(await subscribeStalled(incarnation)));
    };
    for (const replica of cluster.replicas) await subscribe(replica.live!);

    flood = await startFlood(cluster.redis.url, FLOOD_PER_SECOND);
    const stats = newTrafficStats();
    const stopTraffic = startTraffic(cluster.replicas, options.clients, stats);
    const start = Date.now();
    const elapsed = () => ((Date.now() - start) / 1000).toFixed(0).padStart(4);
    const firing = setInterval(() => void fireSchedules(db).catch(() => {}), options.scheduleEveryS * 1000);
    timers.push(
      firing,
      setInterval(() => {
        for (const r of cluster.replicas) if (r.live) sampleRss(r.live);
      }, 1000),
      setInterval(
        () => void progressLine(db, stats, sessions, cluster).then((line) => progress(`${elapsed()}s ${line}`)),
        5000,
      ),
      // once a replica has dropped its stalled subscribers, they read again: within the 5 s the server
      // gives them, they get what was on its way and then the reason
      setInterval(() => void resumeDropped(cluster, stalled), 500),
    );
    const at = (share: number) => sleep(Math.max(0, start + share * options.durationS * 1000 - Date.now()));

    // fault 1: SIGKILL replica a, preferably while it runs an execution (its lease then expires and the
    // other replica covers its window), and start it again
    await at(0.3);
    const victim = a.live!;
    const killedMidExecution = await holdsLease(db, victim.instanceId, 8000);
    const killAt = Date.now();
    for (const s of sessions) if (s.instanceId === victim.instanceId) s.to = killAt;
    await a.kill();
    progress(`${elapsed()}s SIGKILL ${victim.instanceId}${killedMidExecution ? ' (while it ran an execution)' : ''}`);
    await Promise.all(sessions.filter((s) => s.instanceId === victim.instanceId).map((s) => s.close().catch(() => {})));
    const restarted = await a.start();
    const restartS = (Date.now() - killAt) / 1000;
    await subscribe(restarted);
    progress(`${elapsed()}s ${restarted.instanceId} started (${restartS.toFixed(1)} s after the kill)`);

    // fault 2: Redis SIGKILLed and started again on the same port
    await at(0.65);
    const redisDownAt = Date.now();
    await cluster.redis.kill();
    progress(`${elapsed()}s Redis killed`);
    await sleep(2000);
    await cluster.redis.start();
    await untilFanoutBack(cluster);
    const redisUpAt = Date.now();
    progress(
      `${elapsed()}s Redis back; both replicas reconnected (${((redisUpAt - redisDownAt) / 1000).toFixed(1)} s)`,
    );
    // every replica has resubscribed within a second of reporting its connection ready
    const fanoutDown: Interval[] = [{ from: redisDownAt, to: redisUpAt + 1000 }];

    await at(1);
    await stopTraffic();
    const trafficEnd = Date.now();
    clearInterval(firing);
    progress(`${elapsed()}s traffic stopped; last executions`);
    await finalRuns(db, trafficEnd);
    // the busy topic goes on until every live replica has dropped its stalled subscribers (by its own
    // count), however late in the run it was restarted
    const live = liveIncarnations(cluster);
    const dropped = await untilStalledDropped(live, STALLED_SUBSCRIPTIONS, 30_000);
    await flood.stop();
    // nothing is published from here on: what is on its way arrives within the delivery slack
    await sleep(DELIVERY_SLACK_MS + 500);
    const end = Date.now();
    for (const s of sessions) s.to ??= end;
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
    // the stalled clients read again: what was on its way, then the reason (or the end of a socket the server cut)
    await drainStalled(
      stalled.filter((s) => liveAtEnd(cluster, s.instanceId)),
      8000,
    );
    const stalledOutcomes = stalled.map((s) => {
      const outcome = s.outcome();
      const killed = !liveAtEnd(cluster, s.instanceId);
      return {
        instanceId: s.instanceId,
        transport: s.transport,
        killed,
        ...outcome,
        detail: killed ? 'its replica was killed' : outcome.detail,
      };
    });
    for (const s of stalled) s.close();
    for (const timer of timers.splice(0)) clearInterval(timer);
    await Promise.all(cluster.replicas.map((r) => r.stop()));

    const report = await reconcile({
      db,
      cluster,
      stats,
      sessions,
      fanoutDown,
      trafficEnd,
    });
    const incarnations = cluster.replicas.flatMap((r) => r.incarnations);
    const problems = [
      ...report.problems,
      // at least one subscription of each stalled client: a graphql-ws connection closed on its first
      // overflow may end its other subscriptions before they overflow too
      ...stalledProblems(dropped, 2, stalledOutcomes),
      ...incarnations.flatMap(processProblems),
    ];
    const secondsFrom = (t: number) => Math.round((t - start) / 100) / 10;
    return {
      ok: problems.length === 0,
      problems,
      seconds: { traffic: Math.round((trafficEnd - start) / 1000), total: Math.round((Date.now() - t0) / 1000) },
      requests: {
        sent: stats.requests,
        ok: stats.ok,
        failed: stats.failed,
        skippedWhileDown: stats.skipped,
        images: stats.predictions,
      },
      captures: report.captures,
      schedules: report.schedules,
      alerts: report.alerts,
      predictionEvents: report.predictionEvents,
      stalled: {
        busyEvents: flood.published(),
        droppedByReplica: Object.fromEntries(dropped),
        subscribers: stalledOutcomes.map((s) => ({
          instanceId: s.instanceId,
          transport: s.transport,
          dropped: s.dropped,
          outcome: s.detail,
        })),
      },
      faults: {
        killed: victim.instanceId,
        killedMidExecution,
        killAtS: secondsFrom(killAt),
        restartS: Math.round(restartS * 10) / 10,
        redisDownS: Math.round((redisUpAt - redisDownAt) / 100) / 10,
        fanoutDown: fanoutDown.map((o) => ({ fromS: secondsFrom(o.from), toS: secondsFrom(o.to) })),
      },
      replicas: incarnations.map((i) => ({
        instanceId: i.instanceId,
        peakRssMiB: Math.round(i.peakRssKb / 1024),
        exit: i.exit ?? 'running',
      })),
    };
  } finally {
    for (const timer of timers) clearInterval(timer);
    await flood?.stop();
    for (const s of stalled) s.close();
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
    await db.close();
    await cluster.destroy();
  }
}

function liveAtEnd(cluster: Cluster, instanceId: string): boolean {
  return cluster.replicas.some((r) => r.incarnations.some((i) => i.instanceId === instanceId && i.exit !== 'SIGKILL'));
}

async function progressLine(
  db: Database,
  stats: TrafficStats,
  sessions: readonly Session[],
  cluster: Cluster,
): Promise<string> {
  const live = liveIncarnations(cluster);
  const dropped = await droppedSubscribers(live);
  const [executions, alerts] = await Promise.all([
    db.prisma.monitoringExecution.count(),
    db.prisma.monitoringExecution.count({ where: { status: 'CompletedWithViolations' } }),
  ]).catch(() => [Number.NaN, Number.NaN]);
  const received = (topic: string) =>
    sessions.filter((s) => s.topic === topic).reduce((sum, s) => sum + s.received().length, 0);
  const failed = Object.entries(stats.failed)
    .map(([cause, n]) => `${cause} ${n}`)
    .join(', ');
  return [
    `requests ${stats.ok} ok / ${failedCount(stats)} failed${failed ? ` (${failed})` : ''}`,
    `captures ${stats.acknowledged.length}`,
    `executions ${executions}`,
    `alerts ${alerts} published, ${received('alerts')} received`,
    `prediction events ${received('predictions')}`,
    `slow subscribers dropped ${[...dropped].map(([id, n]) => `${id} ${n}`).join(', ')}`,
  ].join(' · ');
}

/** lets the stalled clients of a replica that has dropped them read again */
async function resumeDropped(cluster: Cluster, stalled: readonly StalledSubscriber[]): Promise<void> {
  const live = liveIncarnations(cluster);
  const dropped = await droppedSubscribers(live);
  for (const s of stalled) if ((dropped.get(s.instanceId) ?? 0) >= s.droppedAt) s.resume();
}
