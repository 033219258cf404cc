/**
 * A short `npm run soak` (test/soak/): two replica processes on a private PostgreSQL and a private Redis,
 * traffic, healthy and stalled subscribers, schedules firing every few seconds, one replica SIGKILLed
 * and restarted, Redis restarted; then it reconciles. This asserts that it exits 0 and reads the
 * numbers back from its JSON line. Runs in the postgres project only; skipped with a message when the
 * PostgreSQL or Redis binaries are missing (a failure under VIGIL_REQUIRE_SERVICES=1).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TEST_DB } from '../helpers/database.ts';
import { clusterMissing } from '../soak/cluster.ts';
import type { SoakReport } from '../soak/soak.ts';

const DURATION_S = 35;

const why = TEST_DB !== 'postgres' ? 'runs in the postgres project' : clusterMissing();
if (TEST_DB === 'postgres' && why) console.warn(`soak: skipped: ${why}`);

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/soak/main.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(Boolean(why))('soak (short)', () => {
  it('loses nothing and counts nothing twice through a replica kill and a Redis restart', async () => {
    const { code, stdout, stderr } = await runSoak(['--duration', String(DURATION_S)]);
    const last = stdout.trim().split('\n').at(-1) ?? '';
    expect(code, `${stdout}\n${stderr.slice(-4000)}`).toBe(0);
    const report = JSON.parse(last) as SoakReport;
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);

    // traffic went through, and every acknowledged capture is stored once
    expect(report.requests.ok).toBeGreaterThan(20);
    expect(report.captures.acknowledged).toBeGreaterThan(20);
    expect(report.captures.stored).toBeGreaterThanOrEqual(report.captures.acknowledged);
    expect(report.captures).toMatchObject({ missing: 0, duplicateAcknowledgements: 0, duplicateStored: 0 });

    // each schedule: windows tile, each capture counted once, the alerting one alerted
    for (const s of report.schedules) {
      expect(s).toMatchObject({ maxPerWindow: 1, gaps: 0, overlaps: 0, countMismatches: 0 });
      expect(s.windows).toBeGreaterThanOrEqual(2);
      expect(s.capturesCounted).toBe(s.capturesInWindows);
      expect(s.capturesInWindows).toBe(report.captures.stored);
    }
    expect(report.schedules.find((s) => s.schedule === 'soak-alerting')!.alerts).toBeGreaterThan(0);

    // healthy subscribers on both replicas and on the restarted one got every alert they were owed
    const sessions = [...report.alerts.sessions, ...report.predictionEvents.sessions];
    expect(new Set(sessions.map((s) => s.instanceId))).toEqual(new Set(['soak-a', 'soak-b', 'soak-a-2']));
    for (const s of sessions) expect(s).toMatchObject({ missing: 0, duplicates: 0, unknown: 0 });
    expect(report.alerts.sessions.reduce((n, s) => n + s.expected, 0)).toBeGreaterThan(0);

    // the faults happened; replicas that were not killed drained and exited 0
    expect(report.faults.killed).toBe('soak-a');
    expect(report.replicas.map((r) => [r.instanceId, r.exit])).toEqual([
      ['soak-a', 'SIGKILL'],
      ['soak-a-2', 'exit 0'],
      ['soak-b', 'exit 0'],
    ]);
    for (const r of report.replicas) expect(r.peakRssMiB).toBeGreaterThan(50);
    // stalled subscribers on the replicas alive at the end were dropped
    const stalledAtEnd = report.stalled.subscribers.filter((s) => s.instanceId !== 'soak-a');
    expect(stalledAtEnd).toHaveLength(4);
    for (const s of stalledAtEnd) expect(s, s.outcome).toMatchObject({ dropped: true });
    const droppedByReplica = Object.values(report.stalled.droppedByReplica);
    expect(droppedByReplica).toHaveLength(2);
    for (const n of droppedByReplica) expect(n).toBeGreaterThanOrEqual(2);
  }, 300_000);
});
