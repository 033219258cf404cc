/**
 * The soak's reconciliation against what it gathered: the database's captures and executions, the
 * replicas' logs (who ran each execution), the clients' acknowledgements and the subscribers' events,
 * checked by reconcile.ts.
 */
import type { Database } from '../../src/db/client.ts';
import type { Cluster, Incarnation } from './cluster.ts';
import { publishers } from './logs.ts';
import {
  checkCaptures,
  checkSchedule,
  checkSession,
  DELIVERY_SLACK_MS,
  type Interval,
  type PublishedEvent,
  type StoredExecution,
} from './reconcile.ts';
import { SCHEDULES } from './schedules.ts';
import type { Session, Topic } from './subscribers.ts';
import { ENDPOINT, type TrafficStats } from './traffic.ts';

/**
 * A replica that ended other than by the soak's SIGKILL or with exit 0 after its SIGTERM, or that logged
 * an unhandled rejection or an uncaught exception (no fault of the soak explains those: they are bugs).
 */
export function processProblems(incarnation: Incarnation): string[] {
  const problems =
    incarnation.exit === 'SIGKILL' || incarnation.exit === 'exit 0'
      ? []
      : [`${incarnation.instanceId} ended with ${incarnation.exit}`];
  const lines = incarnation.server
    .output()
    .split('\n')
    .filter((line) => /unhandled promise rejection|uncaught exception/.test(line));
  return [...problems, ...lines.slice(0, 3).map((line) => `${incarnation.instanceId} logged: ${line.slice(0, 300)}`)];
}

/**
 * Every replica alive at the end dropped at least `expected` slow subscribers (`dropped`: by its own
 * count), and each stalled client saw it (a close, the reason, or its socket cut), except those of a
 * killed replica.
 */
export function stalledProblems(
  dropped: ReadonlyMap<string, number>,
  expected: number,
  outcomes: readonly { instanceId: string; transport: string; killed: boolean; dropped: boolean; detail: string }[],
): string[] {
  return [
    ...[...dropped]
      .filter(([, n]) => n < expected)
      .map(([id, n]) => `${id} dropped ${n} slow subscribers, fewer than ${expected}`),
    ...outcomes
      .filter((s) => !s.killed && !s.dropped)
      .map((s) => `stalled ${s.transport} subscriber on ${s.instanceId} was not dropped (${s.detail})`),
  ];
}

interface ReconcileInput {
  db: Database;
  cluster: Cluster;
  stats: TrafficStats;
  sessions: readonly Session[];
  fanoutDown: readonly Interval[];
  trafficEnd: number;
}

export async function reconcile({ db, cluster, stats, sessions, fanoutDown, trafficEnd }: ReconcileInput) {
  const problems: string[] = [];
  const endpoint = await db.prisma.endpoint.findUniqueOrThrow({ where: { name: ENDPOINT } });
  const stored = (
    await db.prisma.capture.findMany({
      where: { endpointId: endpoint.id },
      select: { id: true, eventId: true, inferenceTime: true },
    })
  ).map((c) => ({ id: c.id, eventId: c.eventId, at: c.inferenceTime.getTime() }));
  const captures = checkCaptures(stats.acknowledged, stored, stats.unansweredImages);
  problems.push(...captures.problems);

  // the schedules' executions: an ad-hoc one (no schedule) would be in no schedule's tiling
  const rows = await db.prisma.monitoringExecution.findMany({
    where: { scheduleId: { not: null } },
    include: { schedule: { select: { name: true } } },
  });
  const executions: StoredExecution[] = rows.flatMap(({ schedule, ...e }) =>
    schedule
      ? [
          {
            id: e.id,
            schedule: schedule.name,
            status: e.status,
            windowStart: e.windowStart.getTime(),
            windowEnd: e.windowEnd.getTime(),
            recordCount: e.recordCount,
            startedAt: e.startedAt.getTime(),
            finishedAt: e.finishedAt?.getTime() ?? null,
            message: e.message,
          },
        ]
      : [],
  );
  const schedules = SCHEDULES.map((s) => {
    const { check, problems: found } = checkSchedule(
      s.name,
      executions.filter((e) => e.schedule === s.name),
      stored,
      trafficEnd,
    );
    problems.push(...found);
    return check;
  });

  // alerts: one per execution that completed with violations, published by the replica that ran it
  const incarnations = cluster.replicas.flatMap((r) => r.incarnations);
  const publisherOf = publishers(incarnations.map((i) => ({ instanceId: i.instanceId, log: i.server.output() })));
  const alerting = executions.filter((e) => e.status === 'CompletedWithViolations');
  const kills = incarnations.flatMap((i) =>
    i.exit === 'SIGKILL' ? [{ instanceId: i.instanceId, at: i.endedAt! }] : [],
  );
  const alertEvents: PublishedEvent[] = alerting.map((e) => {
    const publisher = publisherOf.get(`${e.schedule}|${new Date(e.windowEnd).toISOString()}`);
    // published right after its status committed (finishedAt is stamped just before that commit)
    return { id: e.id, publisher, published: { from: e.finishedAt!, to: e.finishedAt! + 500 } };
  });
  // a replica killed within the slack after an alert's commit may have died before publishing it (and
  // before logging it: then its runner is unknown, and any kill that close excuses it)
  const diedJustAfter = (e: PublishedEvent) =>
    kills.some(
      (k) =>
        (e.publisher === undefined || e.publisher === k.instanceId) &&
        e.published.from > k.at - DELIVERY_SLACK_MS &&
        e.published.from <= k.at,
    );
  const owed = alertEvents.filter((e) => !diedJustAfter(e));
  const unattributed = owed.filter((e) => !e.publisher);
  if (unattributed.length)
    problems.push(`${unattributed.length} alerts have no "monitoring execution finished" line in any replica's log`);
  const alertIds = new Set(alertEvents.map((e) => e.id));
  const sessionsOf = (topic: Topic, events: readonly PublishedEvent[], known: ReadonlySet<string>) =>
    sessions
      .filter((s) => s.topic === topic)
      .map((s) => {
        const { check, problems: found } = checkSession(
          { ...s, to: s.to!, received: s.received() },
          events,
          known,
          fanoutDown,
        );
        problems.push(...found);
        return check;
      });
  const alertSessions = sessionsOf('alerts', owed, alertIds);
  // prediction events: one per acknowledged capture, published by the replica that answered, before it answered
  const predictionEvents: PublishedEvent[] = stats.acknowledged.map((a) => ({
    id: a.captureId,
    publisher: a.instanceId,
    published: { from: a.sentAt, to: a.answeredAt },
  }));
  const storedIds = new Set(stored.map((c) => c.id));
  const predictionSessions = sessionsOf('predictions', predictionEvents, storedIds);
  return {
    problems,
    captures: captures.check,
    schedules,
    alerts: {
      published: alertEvents.length,
      publishedJustBeforeKill: alertEvents.length - owed.length,
      sessions: alertSessions,
    },
    predictionEvents: { sessions: predictionSessions },
  };
}
