/** The soak's reconciliation (test/soak/reconcile.ts) on crafted cases: each check finds what it must. */
import { describe, expect, it } from 'vitest';
import {
  checkCaptures,
  checkSchedule,
  checkSession,
  DELIVERY_SLACK_MS,
  type PublishedEvent,
  type StoredCapture,
  type StoredExecution,
} from '../soak/reconcile.ts';

const ack = (captureId: string) => ({ captureId, instanceId: 'soak-a', sentAt: 0, answeredAt: 1 });
const capture = (id: string, at = 0, eventId = `e-${id}`): StoredCapture => ({ id, eventId, at });

describe('checkCaptures', () => {
  it('passes when every acknowledged capture is stored once', () => {
    const { check, problems } = checkCaptures([ack('1'), ack('2')], [capture('1'), capture('2'), capture('3')], 1);
    expect(problems).toEqual([]);
    expect(check).toMatchObject({ acknowledged: 2, stored: 3, missing: 0, storedUnacknowledged: 1 });
  });

  it('finds a lost capture, an id acknowledged twice, a request stored twice, and too many unacknowledged rows', () => {
    const { check, problems } = checkCaptures(
      [ack('1'), ack('1'), ack('2')],
      [capture('1', 0, 'same'), capture('3', 0, 'same'), capture('4')],
      1,
    );
    expect(check).toMatchObject({
      missing: 1,
      duplicateAcknowledgements: 1,
      duplicateStored: 1,
      storedUnacknowledged: 2,
    });
    expect(problems).toHaveLength(4);
  });
});

function execution(id: string, windowStart: number, windowEnd: number, extra: Partial<StoredExecution> = {}) {
  return {
    id,
    schedule: 's',
    status: 'Completed',
    windowStart,
    windowEnd,
    recordCount: 0,
    startedAt: windowEnd,
    finishedAt: windowEnd + 1,
    message: null,
    ...extra,
  } satisfies StoredExecution;
}

describe('checkSchedule', () => {
  const captures = [10, 20, 30, 40].map((at) => capture(`c${at}`, at));

  it('passes windows that tile, a killed run covered by the next, each capture counted once', () => {
    const executions = [
      execution('1', 10, 25, { recordCount: 2, startedAt: 25, finishedAt: 26 }),
      // killed mid-run: failed at its lease's expiry; the next run starts at the same window start
      execution('2', 25, 28, {
        status: 'Failed',
        message: 'Failed: abandoned: the replica running it stopped before it finished',
        startedAt: 28,
        finishedAt: 31,
      }),
      execution('3', 25, 45, { recordCount: 2, status: 'CompletedWithViolations', startedAt: 45, finishedAt: 46 }),
    ];
    const { check, problems } = checkSchedule('s', executions, captures, 44);
    expect(problems).toEqual([]);
    expect(check).toMatchObject({ windows: 2, maxPerWindow: 1, failed: 1, abandoned: 1, alerts: 1 });
    expect(check).toMatchObject({ capturesCounted: 4, capturesInWindows: 4 });
  });

  it('finds a gap, an overlap, a wrong count, an uncovered failure, runs at once and a short last window', () => {
    const executions = [
      execution('1', 10, 25, { recordCount: 1, startedAt: 25, finishedAt: 30 }),
      execution('2', 27, 35, { recordCount: 1, startedAt: 28, finishedAt: 36 }),
      execution('3', 33, 38, { recordCount: 0, startedAt: 38, finishedAt: 39 }),
      execution('4', 50, 60, { status: 'Failed', message: 'Failed: boom', startedAt: 60, finishedAt: 61 }),
    ];
    const { check, problems } = checkSchedule('s', executions, captures, 44);
    expect(check).toMatchObject({ gaps: 1, overlaps: 1, maxPerWindow: 2, countMismatches: 1 });
    expect(problems.join('\n')).toMatch(/gaps/);
    expect(problems.join('\n')).toMatch(/overlapping/);
    expect(problems.join('\n')).toMatch(/counted 1 captures, 2 are stored/);
    expect(problems.join('\n')).toMatch(/failed windows not covered/);
    expect(problems.join('\n')).toMatch(/another reason/);
    expect(problems.join('\n')).toMatch(/before the previous one finished/);
    expect(problems.join('\n')).toMatch(/ends before the traffic did/);
  });
});

describe('checkSession', () => {
  const session = { instanceId: 'a', transport: 'ws', topic: 'alerts', from: 1000, to: 20_000, received: ['x', 'y'] };
  const event = (id: string, publisher: string, at: number): PublishedEvent => ({
    id,
    publisher,
    published: { from: at, to: at + 10 },
  });
  const outage = [{ from: 5000, to: 8000 }];

  it('owes what was published while subscribed, locally always, across replicas outside Redis outages', () => {
    const events = [
      event('x', 'b', 2000), // owed: another replica, Redis up
      event('y', 'a', 6000), // owed: its own replica, during the outage
      event('z', 'b', 6000), // not owed: crossed replicas during the outage
      event('early', 'a', 500), // before it subscribed
      event('late', 'a', 20_000 - DELIVERY_SLACK_MS + 1), // within the slack of its end
    ];
    const known = new Set(events.map((e) => e.id));
    const { check, problems } = checkSession(session, events, known, outage);
    expect(problems).toEqual([]);
    expect(check).toMatchObject({ expected: 2, received: 2, missing: 0 });
  });

  it('finds a missed event, a duplicate and an event never published', () => {
    const events = [event('x', 'b', 2000), event('w', 'a', 6000)];
    const { check, problems } = checkSession(
      { ...session, received: ['x', 'x', 'ghost'] },
      events,
      new Set(['x', 'w']),
      outage,
    );
    expect(check).toMatchObject({ expected: 2, missing: 1, duplicates: 1, unknown: 1 });
    expect(problems).toHaveLength(3);
  });
});
