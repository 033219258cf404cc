/**
 * What the soak checks at the end, as pure functions of what the clients saw and what the database holds
 * (the unit test feeds them crafted cases). Each returns its numbers and the problems it found; any
 * problem fails the soak.
 */
import type { Acknowledged } from './traffic.ts';

/** an interval of epoch milliseconds */
export interface Interval {
  from: number;
  to: number;
}

export interface StoredCapture {
  id: string;
  eventId: string;
  /** epoch ms */
  at: number;
}

export interface CaptureCheck {
  acknowledged: number;
  stored: number;
  /** acknowledged, not stored: a loss */
  missing: number;
  /** one capture id acknowledged twice */
  duplicateAcknowledgements: number;
  /** two stored rows of one request (the same event id) */
  duplicateStored: number;
  /** stored, never acknowledged: answers lost with a killed replica's connections (allowed, bounded by them) */
  storedUnacknowledged: number;
}

/**
 * Acknowledged = stored, each exactly once. Stored captures nobody acknowledged are allowed as long as
 * they are no more than the images of requests that got no answer (their connection broke after the
 * commit, as when a replica is killed).
 */
export function checkCaptures(
  acknowledged: readonly Acknowledged[],
  stored: readonly StoredCapture[],
  unansweredImages: number,
): { check: CaptureCheck; problems: string[] } {
  const problems: string[] = [];
  const storedIds = new Set(stored.map((c) => c.id));
  const ackIds = new Set(acknowledged.map((a) => a.captureId));
  const missing = [...ackIds].filter((id) => !storedIds.has(id));
  const check: CaptureCheck = {
    acknowledged: ackIds.size,
    stored: storedIds.size,
    missing: missing.length,
    duplicateAcknowledgements: acknowledged.length - ackIds.size,
    duplicateStored: stored.length - new Set(stored.map((c) => c.eventId)).size,
    storedUnacknowledged: [...storedIds].filter((id) => !ackIds.has(id)).length,
  };
  if (missing.length) problems.push(`${missing.length} acknowledged captures are not stored (e.g. ${missing[0]})`);
  if (check.duplicateAcknowledgements)
    problems.push(`${check.duplicateAcknowledgements} capture ids acknowledged twice`);
  if (check.duplicateStored) problems.push(`${check.duplicateStored} requests stored twice (same event id)`);
  if (check.storedUnacknowledged > unansweredImages)
    problems.push(
      `${check.storedUnacknowledged} stored captures were never acknowledged, more than the ${unansweredImages} images of requests left without an answer`,
    );
  return { check, problems };
}

export interface StoredExecution {
  id: string;
  schedule: string;
  status: string;
  windowStart: number;
  windowEnd: number;
  recordCount: number;
  startedAt: number;
  finishedAt: number | null;
  message: string | null;
}

export const SUCCEEDED = new Set(['Completed', 'CompletedWithViolations']);

export interface ScheduleCheck {
  schedule: string;
  executions: number;
  /** windows counted (executions that completed) */
  windows: number;
  /** the most completed executions covering one instant: 1 when windows tile */
  maxPerWindow: number;
  failed: number;
  /** failed because their replica stopped (lease expired), each covered by the next execution */
  abandoned: number;
  gaps: number;
  overlaps: number;
  /** executions whose recordCount differs from the captures stored in their window now */
  countMismatches: number;
  /** captures in the windows, and those counted by the executions (equal when each is counted exactly once) */
  capturesInWindows: number;
  capturesCounted: number;
  alerts: number;
}

/**
 * One execution per window: the completed executions' windows tile [first window start, last window end)
 * with no gap and no overlap, each counted the captures stored in its window (none committed late, none
 * twice), no two executions ran at once, and every failed execution's window lies inside a completed one
 * (the next execution covers it). `coverUntil`: the last window must end after it (the final run).
 */
export function checkSchedule(
  schedule: string,
  executions: readonly StoredExecution[],
  captures: readonly StoredCapture[],
  coverUntil: number,
): { check: ScheduleCheck; problems: string[] } {
  const problems: string[] = [];
  const times = captures.map((c) => c.at).sort((a, b) => a - b);
  const countIn = (from: number, to: number) => lowerBound(times, to) - lowerBound(times, from);
  const done = executions.filter((e) => SUCCEEDED.has(e.status)).sort((a, b) => a.windowEnd - b.windowEnd);
  const failed = executions.filter((e) => e.status === 'Failed');
  const unfinished = executions.filter((e) => !SUCCEEDED.has(e.status) && e.status !== 'Failed');
  let gaps = 0;
  let overlaps = 0;
  for (const [i, e] of done.entries()) {
    const previous = done[i - 1];
    if (!previous) continue;
    if (e.windowStart > previous.windowEnd) gaps++;
    if (e.windowStart < previous.windowEnd) overlaps++;
  }
  let maxPerWindow = 0;
  for (const e of done) {
    const covering = done.filter((o) => o.windowStart < e.windowEnd && e.windowStart < o.windowEnd).length;
    maxPerWindow = Math.max(maxPerWindow, covering);
  }
  const mismatched = done.filter((e) => e.recordCount !== countIn(e.windowStart, e.windowEnd));
  const uncoveredFailed = failed.filter(
    (f) => !done.some((e) => e.windowStart <= f.windowStart && e.windowEnd >= f.windowEnd),
  );
  const byStart = [...executions].sort((a, b) => a.startedAt - b.startedAt);
  const concurrent = byStart.filter((e, i) => {
    const previous = byStart[i - 1];
    return previous && (previous.finishedAt === null || e.startedAt < previous.finishedAt);
  });
  const first = done[0];
  const last = done.at(-1);
  const check: ScheduleCheck = {
    schedule,
    executions: executions.length,
    windows: done.length,
    maxPerWindow,
    failed: failed.length,
    abandoned: failed.filter((f) => /abandoned|stopped before it finished/.test(f.message ?? '')).length,
    gaps,
    overlaps,
    countMismatches: mismatched.length,
    capturesInWindows: first && last ? countIn(first.windowStart, last.windowEnd) : 0,
    capturesCounted: done.reduce((sum, e) => sum + e.recordCount, 0),
    alerts: done.filter((e) => e.status === 'CompletedWithViolations').length,
  };
  const name = `schedule ${schedule}`;
  if (!done.length) problems.push(`${name}: no completed execution`);
  if (unfinished.length)
    problems.push(`${name}: ${unfinished.length} executions never finished (${unfinished[0]!.status})`);
  if (gaps) problems.push(`${name}: ${gaps} gaps between consecutive windows`);
  if (overlaps || maxPerWindow > 1)
    problems.push(`${name}: overlapping windows (up to ${maxPerWindow} executions on one instant)`);
  for (const e of mismatched.slice(0, 3))
    problems.push(
      `${name}: execution ${e.id} counted ${e.recordCount} captures, ${countIn(e.windowStart, e.windowEnd)} are stored in its window`,
    );
  if (mismatched.length > 3) problems.push(`${name}: ${mismatched.length - 3} more executions with wrong counts`);
  if (uncoveredFailed.length)
    problems.push(`${name}: ${uncoveredFailed.length} failed windows not covered by a later execution`);
  if (failed.length > check.abandoned)
    problems.push(
      `${name}: ${failed.length - check.abandoned} executions failed for another reason than a stopped replica`,
    );
  if (concurrent.length)
    problems.push(`${name}: ${concurrent.length} executions started before the previous one finished`);
  if (first && times.length && times[0]! < first.windowStart)
    problems.push(`${name}: ${countIn(-Infinity, first.windowStart)} captures before the first window`);
  if (last && last.windowEnd <= coverUntil) problems.push(`${name}: the last window ends before the traffic did`);
  return { check, problems };
}

/** an event some subscribers must have received: published by `publisher` at some instant within `published` */
export interface PublishedEvent {
  id: string;
  /** the instance id that published it; undefined when unknown (treated as another replica) */
  publisher: string | undefined;
  published: Interval;
}

export interface SessionView {
  instanceId: string;
  transport: string;
  topic: string;
  from: number;
  to: number;
  received: readonly string[];
}

export interface SessionCheck {
  instanceId: string;
  transport: string;
  topic: string;
  seconds: number;
  expected: number;
  received: number;
  missing: number;
  duplicates: number;
  /** received, but never published (no such execution or capture) */
  unknown: number;
}

/**
 * How long after its publication an event must have reached a healthy subscriber. A session ended by
 * its replica's SIGKILL owes nothing published in its last `DELIVERY_SLACK_MS`; at the end of the soak
 * publishing stops this long before the subscribers close.
 */
export const DELIVERY_SLACK_MS = 2000;

/**
 * Which events a healthy session must have received: those published after it subscribed and at
 * least DELIVERY_SLACK_MS before it ended (its close, or its replica's death), by its own replica
 * (delivered locally, Redis or not), or by another replica outside the Redis outages (`fanoutDown`:
 * from Redis's loss until every replica has reconnected and resubscribed; events that crossed replicas
 * then are lost by design: fan-out is best effort, not replayed). An event's publication instant is
 * known within an interval (a prediction: between its request and its answer); a cross-replica event
 * is excused when that interval meets an outage. What it received must all have been published
 * (`known`), each once.
 */
export function checkSession(
  session: SessionView,
  events: readonly PublishedEvent[],
  known: ReadonlySet<string>,
  fanoutDown: readonly Interval[],
): { check: SessionCheck; problems: string[] } {
  const received = new Set(session.received);
  const expected = events.filter(
    (e) =>
      e.published.from >= session.from &&
      e.published.to <= session.to - DELIVERY_SLACK_MS &&
      (e.publisher === session.instanceId ||
        !fanoutDown.some((o) => e.published.from <= o.to && o.from <= e.published.to)),
  );
  const missing = expected.filter((e) => !received.has(e.id));
  const unknown = [...received].filter((id) => !known.has(id));
  const check: SessionCheck = {
    instanceId: session.instanceId,
    transport: session.transport,
    topic: session.topic,
    seconds: Math.round((session.to - session.from) / 1000),
    expected: expected.length,
    received: session.received.length,
    missing: missing.length,
    duplicates: session.received.length - received.size,
    unknown: unknown.length,
  };
  const name = `${session.topic} subscriber (${session.transport}) on ${session.instanceId}`;
  const problems: string[] = [];
  if (missing.length)
    problems.push(
      `${name}: missed ${missing.length} of ${expected.length} events it must have received (e.g. ${missing[0]!.id}, published by ${missing[0]!.publisher ?? 'an unknown replica'})`,
    );
  if (check.duplicates) problems.push(`${name}: ${check.duplicates} events received twice`);
  if (unknown.length) problems.push(`${name}: ${unknown.length} events never published (e.g. ${unknown[0]})`);
  return { check, problems };
}

/** the index of the first element ≥ value in a sorted array */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
