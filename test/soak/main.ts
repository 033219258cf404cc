/**
 * `npm run soak`: see options.ts (USAGE) for what it does. It lives under test/ because it is a test —
 * it asserts, and exits non-zero on any loss — built on the test helpers (private PostgreSQL and Redis,
 * server processes, GraphQL clients), and a short run of it is part of `npm test`
 * (test/integration/soak.test.ts); bench/ holds benchmarks, which measure and compare instead.
 *
 * Progress goes to stderr; the summary table to stdout, then one JSON line (the report) last.
 */
import { table } from '../../bench/common.ts';
import { clusterMissing } from './cluster.ts';
import { parseOptions, USAGE, UsageError } from './options.ts';
import { runSoak, type SoakReport } from './soak.ts';

function summary(report: SoakReport): string {
  const { captures, requests } = report;
  const failed = Object.entries(requests.failed).map(([cause, n]) => `${cause}: ${n}`);
  const lines = [
    `soak: ${report.seconds.traffic} s of traffic, ${report.seconds.total} s in all`,
    `faults: SIGKILL ${report.faults.killed} at ${report.faults.killAtS} s${report.faults.killedMidExecution ? ' (mid-execution)' : ''}, back after ${report.faults.restartS} s; Redis down ${report.faults.redisDownS} s`,
    '',
    table([
      ['requests', 'sent', 'ok', 'failed', 'images predicted'],
      ['', String(requests.sent), String(requests.ok), String(requests.sent - requests.ok), String(requests.images)],
    ]),
    `failed by cause: ${failed.length ? failed.join(', ') : 'none'}`,
    '',
    table([
      ['captures', 'acknowledged', 'stored', 'missing', 'acked twice', 'stored twice', 'stored, unacknowledged'],
      [
        '',
        ...[
          captures.acknowledged,
          captures.stored,
          captures.missing,
          captures.duplicateAcknowledgements,
          captures.duplicateStored,
          captures.storedUnacknowledged,
        ].map(String),
      ],
    ]),
    '',
    table([
      [
        'schedule',
        'executions',
        'windows',
        'max per window',
        'failed (abandoned)',
        'gaps',
        'overlaps',
        'count mismatches',
        'captures counted / in windows',
        'alerts',
      ],
      ...report.schedules.map((s) => [
        s.schedule,
        String(s.executions),
        String(s.windows),
        String(s.maxPerWindow),
        `${s.failed} (${s.abandoned})`,
        String(s.gaps),
        String(s.overlaps),
        String(s.countMismatches),
        `${s.capturesCounted} / ${s.capturesInWindows}`,
        String(s.alerts),
      ]),
    ]),
    '',
    `alerts published: ${report.alerts.published} (${report.alerts.publishedJustBeforeKill} published by a replica killed within the delivery slack after, not owed)`,
    table([
      ['healthy subscriber', 'topic', 'seconds', 'owed', 'received', 'missing', 'twice', 'unknown'],
      ...[...report.alerts.sessions, ...report.predictionEvents.sessions].map((s) => [
        `${s.instanceId} ${s.transport}`,
        s.topic,
        String(s.seconds),
        String(s.expected),
        String(s.received),
        String(s.missing),
        String(s.duplicates),
        String(s.unknown),
      ]),
    ]),
    '',
    `stalled subscribers: ${report.stalled.busyEvents} events of 64 KB published on their topic; dropped as too slow, by the replicas' count: ${Object.entries(
      report.stalled.droppedByReplica,
    )
      .map(([id, n]) => `${id} ${n}`)
      .join(', ')}`,
    table([
      ['stalled subscriber', 'outcome'],
      ...report.stalled.subscribers.map((s) => [`${s.instanceId} ${s.transport}`, s.outcome]),
    ]),
    '',
    table([
      ['replica', 'peak RSS (MiB)', 'ended'],
      ...report.replicas.map((r) => [r.instanceId, String(r.peakRssMiB), r.exit]),
    ]),
    '',
    report.ok
      ? 'OK: nothing lost, nothing counted twice'
      : `FAILED:\n${report.problems.map((p) => `  - ${p}`).join('\n')}`,
  ];
  return lines.join('\n');
}

let options: ReturnType<typeof parseOptions>;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`soak: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options === 'help') {
  console.log(USAGE);
  process.exit(0);
}
const missing = clusterMissing();
if (missing) {
  console.error(`soak: cannot run here: ${missing}`);
  process.exit(3);
}
const report = await runSoak(options, (line) => process.stderr.write(`[soak] ${line}\n`));
console.log(summary(report));
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
