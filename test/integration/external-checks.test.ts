/**
 * External checks through the real server: scripts of a temporary CHECKS_DIR run per execution in
 * Model Monitor's container contract. A Python check's violation appears among the execution's; the
 * docs' write-up-style class-share script reads `[[class]]` from dataset_source and writes the
 * write-up's constraints_violations.json; failing, timing-out, malformed and over-talkative scripts fail
 * their own check (stderr tail kept) while the execution completes; scripts outside CHECKS_DIR and
 * reserved environment names are refused; runMonitoringJob runs them too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, type VariablesOf } from '../../src/graphql.ts';
import { SHUT_DOWN } from '../../src/monitor/executions/service.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { createEndpoint, insertCaptures, MONITOR_ERROR, spread } from '../helpers/monitor.ts';
import { stillRunning } from '../helpers/process.ts';
import { startTestServer, useTestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';

const EXTERNAL_RUN = graphql(`
  fragment ExternalRunFields on MonitoringExecution {
    id trigger status message recordCount
    violations { check featureName constraintCheckType description }
    externalChecks {
      script output status failure message exitCode signal stderrTail violationCount capturesWritten
      capturesTruncated durationMs
    }
    metrics { name value }
  }
`);
const CREATE = graphql(
  `
  mutation CreateExternalSchedule($input: CreateMonitoringScheduleInput!) {
    createMonitoringSchedule(input: $input) {
      __typename
      ... on MonitoringSchedule { name checks { external { script output environment { name value } } } }
      ...MonitorErrorFields
    }
  }
`,
  [MONITOR_ERROR],
);
const UPDATE = graphql(
  `
  mutation UpdateExternalSchedule($name: String!, $input: UpdateMonitoringScheduleInput!) {
    updateMonitoringSchedule(name: $name, input: $input) {
      __typename
      ... on MonitoringSchedule { checks { external { script } } }
      ...MonitorErrorFields
    }
  }
`,
  [MONITOR_ERROR],
);
const RUN = graphql(
  `
  mutation RunExternalSchedule($name: String!) {
    runMonitoringSchedule(name: $name) { __typename ...ExternalRunFields ...MonitorErrorFields }
  }
`,
  [EXTERNAL_RUN, MONITOR_ERROR],
);
const BASELINE = graphql(
  `
  mutation CreateExternalBaseline($input: CreateBaselineInput!) {
    createBaseline(input: $input) { __typename ... on Baseline { itemCount } ...MonitorErrorFields }
  }
`,
  [MONITOR_ERROR],
);
const JOB = graphql(
  `
  mutation RunExternalJob($input: MonitoringJobInput!) {
    runMonitoringJob(input: $input) { __typename ...ExternalRunFields ...MonitorErrorFields }
  }
`,
  [EXTERNAL_RUN, MONITOR_ERROR],
);
type External = NonNullable<NonNullable<VariablesOf<typeof CREATE>['input']['checks']>['external']>;

const SECRET = 'VIGIL_TEST_EXTERNAL_SECRET';
/** python3 alone takes 2 s to start on a loaded 2-core machine */
const TIMEOUT_MS = 15_000;

/** the scripts the tests run, written into the temporary CHECKS_DIR */
const SCRIPTS: Record<string, string> = {
  // every contract variable and the schedule's environment, seen from inside; the server's own variables not
  'contract.py': `
import json, os
env = os.environ
lines = [l for f in os.listdir(env["dataset_source"]) for l in open(os.path.join(env["dataset_source"], f))]
first = json.loads(lines[0])
seen = {k: env.get(k) for k in ["sagemaker_endpoint_name", "sagemaker_monitoring_schedule_name", "start_time",
        "end_time", "LIMIT", "publish_cloudwatch_metrics", "${SECRET}"]}
seen["dataset_source"] = env["dataset_source"]
seen["output_keys"] = sorted(first["captureData"]["endpointOutput"].keys())
seen["output_data"] = json.loads(first["captureData"]["endpointOutput"]["data"])
seen["lines"] = len(lines)
seen["baseline_version"] = json.load(open(env["baseline_constraints"]))["version"] if "baseline_constraints" in env else None
seen["baseline_items"] = json.load(open(env["baseline_statistics"]))["dataset"]["item_count"] if "baseline_statistics" in env else None
print("contract check ran")
with open(os.path.join(env["output_path"], "constraint_violations.json"), "w") as f:
    json.dump({"violations": [{"feature_name": "Contract", "constraint_check_type": "custom_contract_check",
               "description": json.dumps(seen)}]}, f)
`,
  'fail.py': `
import os, sys
print("about to fail", flush=True)
sys.stderr.write(f"dir={os.path.dirname(os.environ['dataset_source'])}\\n")
sys.stderr.write("Traceback (most recent call last):\\n  boom: the check broke\\n")
sys.exit(3)
`,
  // a child in its group, whose pid it prints: the timeout kills the group
  'slow.py': `
import os, subprocess, sys, time
child = subprocess.Popen(["sleep", "60"])
sys.stderr.write(f"child={child.pid} dir={os.path.dirname(os.environ['dataset_source'])}\\n")
sys.stderr.flush()
time.sleep(60)
`,
  'malformed.mjs': `
import fs from 'node:fs';
import path from 'node:path';
fs.writeFileSync(path.join(process.env.output_path, 'constraint_violations.json'), '{"violations": [{"feature_name": 1}]}');
`,
  'chatty.py': `
import sys
sys.stdout.write("x" * 200000)
`,
  // a child in its group; its pid in MARK (a file of the test's) once it runs
  'marked.py': `
import os, subprocess, time
child = subprocess.Popen(["sleep", "60"])
with open(os.environ["MARK"], "w") as f:
    f.write(f"{child.pid} {os.path.dirname(os.environ['dataset_source'])}")
time.sleep(60)
`,
  'ok.sh': `#!/bin/sh
echo "no violations from $sagemaker_endpoint_name"
`,
};

describe('external checks', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-checks-test-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-checks-outside-'));
  const server = useTestServer(() => ({
    env: {
      CHECKS_DIR: dir,
      EXTERNAL_CHECK_TIMEOUT_MS: String(TIMEOUT_MS),
      EXTERNAL_CHECK_MAX_OUTPUT_BYTES: '65536',
      EXTERNAL_CHECK_MAX_CAPTURES: '20',
    },
  }));
  const endpoints = new Map<string, string>();

  beforeAll(async () => {
    process.env[SECRET] = 'must not reach the scripts';
    for (const [name, text] of Object.entries(SCRIPTS)) fs.writeFileSync(path.join(dir, name), text.trimStart());
    fs.chmodSync(path.join(dir, 'ok.sh'), 0o755);
    fs.copyFileSync('docs/examples/checks/class_share.py', path.join(dir, 'class_share.py'));
    fs.writeFileSync(path.join(outside, 'evil.py'), 'print("outside")\n');
    fs.symlinkSync(path.join(outside, 'evil.py'), path.join(dir, 'link.py'));
    fs.mkdirSync(path.join(dir, 'sub'));
    endpoints.set('ext', await createEndpoint(server, 'ext'));
  });
  afterAll(() => {
    delete process.env[SECRET];
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  /** `classes` captured by the endpoint over the past second, after the schedule's previous window */
  async function captures(endpoint: string, classes: number[]): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    const times = spread(classes.length, Date.now() - 1000, Date.now());
    await insertCaptures(
      server,
      endpoints.get(endpoint)!,
      classes.map((classId, i) => ({ classId, at: times[i]! })),
    );
  }
  /** a schedule of the endpoint of the same name (created with it) */
  async function schedule(name: string, external: External) {
    endpoints.set(name, await createEndpoint(server, name));
    const { createMonitoringSchedule: s } = await server.client.data(CREATE, {
      input: { name, endpoint: name, cron: '0 0 1 1 *', checks: { classShare: { enabled: false }, external } },
    });
    expectTypename(s, 'MonitoringSchedule');
    return s;
  }
  async function run(name: string) {
    const { runMonitoringSchedule: e } = await server.client.data(RUN, { name });
    expectTypename(e, 'MonitoringExecution');
    return e;
  }
  async function refused(external: External) {
    const { createMonitoringSchedule: s } = await server.client.data(CREATE, {
      input: {
        name: `refused-${Math.random().toString(36).slice(2, 8)}`,
        endpoint: 'ext',
        cron: '0 0 1 1 *',
        checks: { external },
      },
    });
    expectTypename(s, 'ValidationError');
    return s;
  }

  it("runs a Python check in the container contract: its violation is the execution's, the server's environment is not its", async () => {
    const created = await schedule('contract', [
      { script: 'contract.py', environment: [{ name: 'LIMIT', value: '0.25' }] },
    ]);
    expect(created.checks.external).toEqual([
      { script: 'contract.py', output: 'FULL', environment: [{ name: 'LIMIT', value: '0.25' }] },
    ]);
    await captures('contract', [3, 3, 5]);
    const e = await run('contract');
    expect(e.status).toBe('CompletedWithViolations');
    expect(e.recordCount).toBe(3);
    expect(e.externalChecks).toEqual([
      expect.objectContaining({
        script: 'contract.py',
        status: 'VIOLATIONS',
        failure: null,
        exitCode: 0,
        violationCount: 1,
        capturesWritten: 3,
        capturesTruncated: false,
      }),
    ]);
    const violation = e.violations.find((v) => v.check === 'EXTERNAL')!;
    expect(violation).toMatchObject({ featureName: 'Contract', constraintCheckType: 'custom_contract_check' });
    const seen = JSON.parse(violation.description) as Record<string, unknown>;
    expect(seen).toMatchObject({
      sagemaker_endpoint_name: 'contract',
      sagemaker_monitoring_schedule_name: 'contract',
      LIMIT: '0.25',
      publish_cloudwatch_metrics: 'Disabled',
      [SECRET]: null,
      lines: 3,
      baseline_version: null,
      output_keys: ['data', 'encoding', 'mode', 'observedContentType'],
      output_data: { predictedClass: 3, label: 'class 3', confidence: 0.95 },
    });
    expect(Date.parse(seen.start_time as string)).toBeLessThan(Date.parse(seen.end_time as string));
    // the temporary directory is gone once the run is over
    expect(fs.existsSync(seen.dataset_source as string)).toBe(false);
    expect(fs.existsSync(path.dirname(seen.dataset_source as string))).toBe(false);
    expect(e.metrics.find((m) => m.name === 'external_check_failures')?.value).toBe(0);
    expect(e.message).toBe(`CompletedWithViolations: ${violation.description}`);
  });

  it("runs the docs' write-up-style class-share script on [[class]] (CLASS output), constraints_violations.json spelling", async () => {
    await schedule('share', [{ script: 'class_share.py', output: 'CLASS' }]);
    await captures('share', [14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 2, 7]);
    const e = await run('share');
    expect(e.status).toBe('CompletedWithViolations');
    expect(e.violations).toEqual([
      {
        check: 'EXTERNAL',
        featureName: 'PredictedClass',
        constraintCheckType: 'baseline_drift_check',
        description: 'Class 14 predicted 83.3% of the time',
      },
    ]);
    expect(e.message).toBe('CompletedWithViolations: Class 14 predicted 83.3% of the time');
    expect(e.externalChecks[0]).toMatchObject({ status: 'VIOLATIONS', output: 'CLASS', capturesWritten: 12 });

    // FULL output: the write-up's reader finds no [[class]] and counts every line as unreadable
    const { updateMonitoringSchedule: u } = await server.client.data(UPDATE, {
      name: 'share',
      input: { checks: { external: [{ script: 'class_share.py', output: 'FULL' }] } },
    });
    expectTypename(u, 'MonitoringSchedule');
    await captures('share', [14, 14, 14]);
    const full = await run('share');
    expect(full.status).toBe('Completed');
    expect(full.externalChecks[0]).toMatchObject({ status: 'PASSED', message: 'no violations', violationCount: 0 });
  });

  it('writes at most EXTERNAL_CHECK_MAX_CAPTURES captures, and says the window held more', async () => {
    await schedule('bounded', [
      { script: 'class_share.py', output: 'CLASS', environment: [{ name: 'THRESHOLD', value: '0.9' }] },
    ]);
    await captures(
      'bounded',
      Array.from({ length: 25 }, (_, i) => i % 2),
    );
    const e = await run('bounded');
    expect(e.recordCount).toBe(25);
    expect(e.externalChecks[0]).toMatchObject({ status: 'PASSED', capturesWritten: 20, capturesTruncated: true });
  });

  it('a failing, a timing-out, a malformed and a too talkative script each fail their check; the execution completes', async () => {
    await schedule('broken', [
      { script: 'fail.py' },
      { script: 'slow.py' },
      { script: 'malformed.mjs' },
      { script: 'chatty.py' },
      { script: 'ok.sh' },
      { script: 'class_share.py', output: 'CLASS' },
    ]);
    await captures('broken', [9, 9, 9, 9]);
    const started = Date.now();
    const e = await run('broken');
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 30_000);
    expect(e.status).toBe('CompletedWithViolations');
    expect(e.violations.map((v) => v.description)).toEqual(['Class 9 predicted 100.0% of the time']);
    const [fail, slow, malformed, chatty, ok, share] = e.externalChecks;
    expect(fail).toMatchObject({
      status: 'FAILED',
      failure: 'EXIT_CODE',
      exitCode: 3,
      message: 'it exited with code 3',
    });
    expect(fail!.stderrTail).toContain('boom: the check broke');
    expect(fail!.stderrTail).not.toContain('about to fail');
    expect(slow).toMatchObject({ status: 'FAILED', failure: 'TIMEOUT', exitCode: null, signal: 'SIGTERM' });
    expect(slow!.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    const child = Number(/child=(\d+)/.exec(slow!.stderrTail)?.[1]);
    expect(child).toBeGreaterThan(0);
    // the script's own child was in its process group, and went with it
    expect(await stillRunning(child)).toBe(false);
    expect(malformed).toMatchObject({ status: 'FAILED', failure: 'MALFORMED_OUTPUT', exitCode: 0 });
    expect(malformed!.message).toContain('feature_name');
    expect(chatty).toMatchObject({ status: 'FAILED', failure: 'OUTPUT_TOO_LARGE' });
    expect(ok).toMatchObject({ status: 'PASSED', exitCode: 0 });
    expect(share).toMatchObject({ status: 'VIOLATIONS', violationCount: 1 });
    expect(e.message).toBe(
      "CompletedWithViolations: Class 9 predicted 100.0% of the time; external check 'fail.py' failed: it exited with code 3 (and 3 more)",
    );
    expect(e.metrics.find((m) => m.name === 'external_check_failures')?.value).toBe(4);
    // their temporary directories are gone, that of the killed one too
    for (const run of [fail!, slow!]) {
      const work = /dir=(\S+)/.exec(run.stderrTail)?.[1] ?? '';
      expect(work).toContain('vigil-check-');
      expect(fs.existsSync(work)).toBe(false);
    }
  }, 120_000);

  it('a script removed after the schedule was saved fails its check', async () => {
    fs.writeFileSync(path.join(dir, 'gone.py'), 'print(1)\n');
    await schedule('gone', [{ script: 'gone.py' }]);
    fs.rmSync(path.join(dir, 'gone.py'));
    await captures('gone', [1]);
    const e = await run('gone');
    expect(e.status).toBe('Completed');
    expect(e.externalChecks[0]).toMatchObject({ status: 'FAILED', failure: 'SCRIPT_MISSING' });
  });

  it('refuses scripts outside CHECKS_DIR (.., absolute, links out), directories and missing files', async () => {
    for (const script of [
      `../${path.basename(outside)}/evil.py`,
      path.join(outside, 'evil.py'),
      'link.py',
      'sub',
      'missing.py',
      'sub/../../x.py',
    ]) {
      const e = await refused([{ script }]);
      expect(e.field).toBe('checks.external.0.script');
      expect(e.message).toContain('not a file inside CHECKS_DIR');
    }
    // an absolute path inside CHECKS_DIR is inside it
    await schedule('absolute', [{ script: path.join(dir, 'ok.sh') }]);
  });

  it('refuses reserved and malformed environment names, and over-long lists', async () => {
    const cases: [External, string][] = [
      [
        [{ script: 'ok.sh', environment: [{ name: 'LD_PRELOAD', value: '/tmp/x.so' }] }],
        'checks.external.0.environment.0.name',
      ],
      [
        [{ script: 'ok.sh', environment: [{ name: 'node_options', value: '--import=x' }] }],
        'checks.external.0.environment.0.name',
      ],
      [
        [{ script: 'ok.sh', environment: [{ name: 'dataset_source', value: '/' }] }],
        'checks.external.0.environment.0.name',
      ],
      [[{ script: 'ok.sh', environment: [{ name: '1A', value: '' }] }], 'checks.external.0.environment.0.name'],
      [
        [
          {
            script: 'ok.sh',
            environment: [
              { name: 'A', value: '1' },
              { name: 'A', value: '2' },
            ],
          },
        ],
        'checks.external.0.environment.1.name',
      ],
      [
        [{ script: 'ok.sh', environment: [{ name: 'A', value: 'x'.repeat(5000) }] }],
        'checks.external.0.environment.0.value',
      ],
      [Array.from({ length: 9 }, () => ({ script: 'ok.sh' })), 'checks.external'],
      [[{ script: '' }], 'checks.external.0.script'],
    ];
    for (const [external, field] of cases) expect((await refused(external)).field).toBe(field);
  });

  it('runs external checks in an ad-hoc job, named ad-hoc-<id>', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    await captures('ext', [4]);
    const { runMonitoringJob: e } = await server.client.data(JOB, {
      input: {
        endpoint: 'ext',
        from,
        to: new Date().toISOString(),
        checks: { classShare: { enabled: false }, external: [{ script: 'contract.py', output: 'CLASS' }] },
      },
    });
    expectTypename(e, 'MonitoringExecution');
    expect(e.trigger).toBe('AD_HOC');
    const seen = JSON.parse(e.violations.find((v) => v.check === 'EXTERNAL')!.description) as Record<string, unknown>;
    expect(seen.sagemaker_monitoring_schedule_name).toBe(`ad-hoc-${e.id}`);
    expect(seen.output_data).toEqual([[expect.any(Number)]]);
    expect(seen.lines).toBe(e.recordCount);
    expect(seen.baseline_version).toBeNull();

    // with a baseline, its statistics.json and constraints.json are handed over, as Model Monitor does
    const { createBaseline: b } = await server.client.data(BASELINE, { input: { endpoint: 'ext', name: 'ext-ref' } });
    expectTypename(b, 'Baseline');
    const { runMonitoringJob: withBaseline } = await server.client.data(JOB, {
      input: {
        endpoint: 'ext',
        from,
        to: new Date().toISOString(),
        baseline: 'ext-ref',
        checks: { classShare: { enabled: false }, drift: { enabled: false }, external: [{ script: 'contract.py' }] },
      },
    });
    expectTypename(withBaseline, 'MonitoringExecution');
    const withSeen = JSON.parse(withBaseline.violations.find((v) => v.check === 'EXTERNAL')!.description) as Record<
      string,
      unknown
    >;
    expect(withSeen).toMatchObject({ baseline_version: 0, baseline_items: b.itemCount });

    const { runMonitoringJob: bad } = await server.client.data(JOB, {
      input: { endpoint: 'ext', from, to: new Date().toISOString(), checks: { external: [{ script: '../x.py' }] } },
    });
    expectTypename(bad, 'ValidationError');
    expect(bad.field).toBe('checks.external.0.script');
  });
});

describe('external checks at shutdown', () => {
  // the monitor's part of a shutdown (app.close() stops it so, then closes the database without waiting
  // for a run that outlives its deadline: here the run's last write is awaited)
  it('end with the server: the script and its child killed, its directory removed, the execution failed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-checks-shutdown-'));
    const mark = path.join(dir, 'started');
    fs.writeFileSync(path.join(dir, 'marked.py'), SCRIPTS['marked.py']!.trimStart());
    const server = await startTestServer({ env: { CHECKS_DIR: dir } });
    try {
      const endpointId = await createEndpoint(server, 'down');
      await insertCaptures(server, endpointId, [{ classId: 1, at: Date.now() - 500 }]);
      const { createMonitoringSchedule: s } = await server.client.data(CREATE, {
        input: {
          name: 'down',
          endpoint: 'down',
          cron: '0 0 1 1 *',
          checks: { external: [{ script: 'marked.py', environment: [{ name: 'MARK', value: mark }] }] },
        },
      });
      expectTypename(s, 'MonitoringSchedule');
      const running = server.app.services.monitor.executions.runNow('down');
      const started = await until(
        'the script to start',
        async () =>
          fs.existsSync(mark) && fs.readFileSync(mark, 'utf8').includes(' ') ? fs.readFileSync(mark, 'utf8') : null,
        30_000,
      );
      const [child, work] = started.split(' ');
      await server.app.services.monitor.executions.stop(200);
      const e = await running;
      expect(e.status).toBe('Failed');
      expect(e.message).toBe(SHUT_DOWN);
      expect(await stillRunning(Number(child))).toBe(false);
      expect(fs.existsSync(work!)).toBe(false);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('external checks without CHECKS_DIR', () => {
  const server = useTestServer();

  it('are refused: running code is something an administrator turns on', async () => {
    await createEndpoint(server, 'plain');
    const { createMonitoringSchedule: s } = await server.client.data(CREATE, {
      input: { name: 'nodir', endpoint: 'plain', cron: '0 0 1 1 *', checks: { external: [{ script: 'ok.sh' }] } },
    });
    expectTypename(s, 'ValidationError');
    expect(s.field).toBe('checks.external');
    expect(s.message).toContain('CHECKS_DIR');
  });
});
