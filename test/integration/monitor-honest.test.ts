/**
 * Honest signals, through the real server: an empty window publishes no made-up value (absent gauges,
 * `insufficient_data`), a baseline in use is not deleted behind its schedules' backs, violations name
 * their check for machines, an endpoint capturing inputs only gets no completeness violation, a paused
 * schedule does not fire, an execution has its statistics.json and a link to its captures — and runs
 * over any window (runMonitoringJob) count exactly the captures in it without moving a schedule.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import {
  type CaptureSpec,
  createBaseline,
  createEndpoint,
  createSchedule,
  EXECUTION,
  insertCaptures,
  MONITOR_ERROR,
  normalClasses,
  run,
  spread,
} from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';
import { sleep, until } from '../helpers/wait.ts';

const DELETE_BASELINE = graphql(
  `
  mutation DeleteBaselineInUse($id: ID!, $detach: Boolean) {
    deleteBaseline(id: $id, detachSchedules: $detach) { __typename ... on Baseline { name } ...MonitorErrorFields }
  }
`,
  [MONITOR_ERROR],
);
const SCHEDULE_STATE = graphql(`
  query ScheduleState($name: String!) {
    monitoringSchedule(name: $name) {
      status pausedAt nextRunAt
      baseline { name }
      checks { drift { enabled } }
      executions { __typename ... on MonitoringScheduleExecutionList { executions { id windowStart windowEnd trigger status } } }
    }
  }
`);
const BASELINE_OF = graphql(
  `query BaselineOfSchedule($name: String!) { monitoringSchedule(name: $name) { baseline { id } } }`,
);
const REPLACE_CONSTRAINTS = graphql(
  `
  mutation ReplaceConstraints($id: ID!, $constraints: JSON!) {
    replaceBaselineConstraints(id: $id, constraints: $constraints) {
      __typename ... on Baseline { constraints } ...MonitorErrorFields
    }
  }
`,
  [MONITOR_ERROR],
);
const BASELINE_EXISTS = graphql(`query BaselineExists($id: ID!) { baseline(id: $id) { id } }`);
const PAUSE = graphql(`
  mutation PauseSchedule($name: String!) {
    pauseMonitoringSchedule(name: $name) {
      __typename ... on MonitoringSchedule { status pausedAt nextRunAt }
    }
  }
`);
const RESUME = graphql(`
  mutation ResumeSchedule($name: String!) {
    resumeMonitoringSchedule(name: $name) {
      __typename ... on MonitoringSchedule { status pausedAt nextRunAt }
    }
  }
`);
const SERIES = graphql(`
  query HonestSeries($schedule: String!, $name: String!) {
    metrics(schedule: $schedule, name: $name) {
      __typename ... on MonitoringMetricSeries { points { value executionId } }
    }
  }
`);
const CREATE_CAPTURING = graphql(`
  mutation CreateCapturingEndpoint($name: String!, $mode: CaptureMode!) {
    createEndpoint(input: { name: $name, dataCapture: { enabled: true, samplingPercentage: 100, captureMode: $mode } }) {
      __typename
    }
  }
`);
const PREDICT_BATCH = graphql(`
  mutation PredictForCapture($endpoint: String!, $images: [ImageInput!]!) {
    predictBatch(endpoint: $endpoint, images: $images) { __typename }
  }
`);
const EXECUTION_LINKS = graphql(`
  query ExecutionLinks($id: ID!, $first: Int) {
    monitoringExecution(id: $id) {
      recordCount statistics statisticsUrl windowStart windowEnd
      captures(first: $first) {
        __typename
        ... on CaptureConnection { totalCount edges { node { inferenceTime } } }
      }
    }
  }
`);
const CAPTURES_OF_EXECUTION = graphql(
  `
  query CapturesOfExecution($endpoint: String!, $execution: ID!, $from: DateTime) {
    captures(endpoint: $endpoint, filter: { execution: $execution, from: $from }) {
      __typename
      ... on CaptureConnection { totalCount }
      ...MonitorErrorFields
    }
  }
`,
  [MONITOR_ERROR],
);
const RUN_JOB = graphql(
  `
  mutation RunMonitoringJob($input: MonitoringJobInput!) {
    runMonitoringJob(input: $input) { __typename ...MonitoringExecutionFields ...MonitorErrorFields }
  }
`,
  [EXECUTION, MONITOR_ERROR],
);
const EXECUTIONS_OF_ENDPOINT = graphql(`
  query ExecutionsOfEndpoint($endpoint: String!, $trigger: MonitoringTrigger) {
    monitoringExecutions(endpoint: $endpoint, trigger: $trigger) {
      __typename ... on MonitoringExecutionList { executions { id trigger schedule } }
    }
  }
`);
const EXECUTION_BY_ID = graphql(`
  query AdHocExecution($id: ID!) { monitoringExecution(id: $id) { id trigger schedule recordCount } }
`);

const metricNames = (e: { metrics: { name: string }[] }) =>
  e.metrics.map((m) => m.name).filter((name) => !name.startsWith('class_count_'));
const metric = (e: { metrics: { name: string; value: number }[] }, name: string) =>
  e.metrics.find((m) => m.name === name)?.value;

describe('model monitor: honest signals and ad-hoc windows', () => {
  // a fast scheduler: a paused schedule must not fire even when the scheduler looks every 50 ms
  const server = useTestServer({ env: { SCHEDULER_INTERVAL_MS: '50' } });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    for (const name of ['quiet', 'inuse', 'routed', 'paused', 'linked', 'adhoc'])
      ids[name] = await createEndpoint(server, name);
  });

  /** a window of a normal class mix over [from, to) */
  async function normalWindow(endpoint: string, n: number, from: number, to: number): Promise<void> {
    const normal = normalClasses(n);
    await insertCaptures(
      server,
      ids[endpoint]!,
      spread(n, from, to).map((at, i) => ({ ...normal[i]!, at })),
    );
  }

  /** captures after `after` (a previous window's end), up to now */
  async function windowAfter(endpoint: string, specs: Omit<CaptureSpec, 'at'>[], after: string): Promise<void> {
    await sleep(20);
    const times = spread(specs.length, Date.parse(after), Date.now());
    await insertCaptures(
      server,
      ids[endpoint]!,
      specs.map((s, i) => ({ ...s, at: times[i]! })),
    );
  }

  async function scrape(): Promise<string> {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('an empty window emits no made-up values: gauges absent, insufficient_data set', async () => {
    const t0 = Date.now() - 120_000;
    const t1 = Date.now() - 60_000;
    await normalWindow('quiet', 430, t0, t1);
    const baseline = await createBaseline(server, {
      endpoint: 'quiet',
      name: 'ref',
      from: new Date(t0).toISOString(),
      to: new Date(t1).toISOString(),
    });
    await createSchedule(server, { name: 'quiet-s', endpoint: 'quiet', baseline: baseline.name });
    const busy = await run(server, 'quiet-s');
    expect(busy).toMatchObject({ status: 'Completed', recordCount: 430, insufficientData: false });
    expect(metric(busy, 'insufficient_data')).toBe(0);
    expect(metric(busy, 'max_class_share')).toBeGreaterThan(0);
    expect(metric(busy, 'drift_l_infinity')).toBeCloseTo(0, 12);

    // nothing arrived since: an empty window
    const empty = await run(server, 'quiet-s');
    expect(empty).toMatchObject({
      status: 'Completed',
      recordCount: 0,
      insufficientData: true,
      violations: [],
      message: 'Completed: insufficient data: 0 captures in the window, fewer than the minimum sample size of 30',
    });
    // counts (zeros that are true) and the signal; no share, mean or distance
    expect(metricNames(empty)).toEqual(['insufficient_data', 'record_count']);
    expect(metric(empty, 'class_count_14')).toBe(0);

    const text = await scrape();
    const labels = '{schedule="quiet-s",endpoint="quiet"}';
    expect(text).toContain(`vigil_monitor_insufficient_data${labels} 1\n`);
    expect(text).toContain(`vigil_monitor_record_count${labels} 0\n`);
    for (const made of ['drift_l_infinity', 'confidence_mean', 'max_class_share', 'non_null_share', 'violation_count'])
      expect(text).not.toContain(`vigil_monitor_${made}${labels}`);

    // the series has a hole where the window had nothing to measure, not a 1 or a 0
    const { metrics } = await server.client.data(SERIES, { schedule: 'quiet-s', name: 'drift_l_infinity' });
    expectTypename(metrics, 'MonitoringMetricSeries');
    expect(metrics.points.map((p) => p.executionId)).toEqual([busy.id]);
  });

  it('a baseline in use is not deleted: a typed conflict naming its schedules, or an explicit detach', async () => {
    await normalWindow('inuse', 60, Date.now() - 60_000, Date.now() - 1000);
    const used = await createBaseline(server, { endpoint: 'inuse', name: 'used' });
    const unused = await createBaseline(server, { endpoint: 'inuse', name: 'unused' });
    await createSchedule(server, { name: 'inuse-a', endpoint: 'inuse', baseline: 'used' });
    await createSchedule(server, { name: 'inuse-b', endpoint: 'inuse', baseline: used.id });

    const { deleteBaseline: refused } = await server.client.data(DELETE_BASELINE, { id: used.id });
    expectTypename(refused, 'ConflictError');
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toContain("in use by monitoring schedules 'inuse-a', 'inuse-b'");
    expect((await server.client.data(BASELINE_EXISTS, { id: used.id })).baseline).toEqual({ id: used.id });
    const kept = (await server.client.data(SCHEDULE_STATE, { name: 'inuse-a' })).monitoringSchedule;
    expect(kept).toMatchObject({ baseline: { name: 'used' }, checks: { drift: { enabled: true } } });

    const { deleteBaseline: detached } = await server.client.data(DELETE_BASELINE, { id: used.id, detach: true });
    expect(detached).toEqual({ __typename: 'Baseline', name: 'used' });
    expect((await server.client.data(BASELINE_EXISTS, { id: used.id })).baseline).toBeNull();
    for (const name of ['inuse-a', 'inuse-b']) {
      const s = (await server.client.data(SCHEDULE_STATE, { name })).monitoringSchedule;
      expect(s).toMatchObject({ baseline: null, checks: { drift: { enabled: false } } });
    }
    // one that no schedule uses goes as before
    const { deleteBaseline: plain } = await server.client.data(DELETE_BASELINE, { id: unused.id });
    expect(plain).toEqual({ __typename: 'Baseline', name: 'unused' });
  });

  it('every violation names its check, beside Model Monitor constraint_check_type', async () => {
    const t0 = Date.now() - 120_000;
    const t1 = Date.now() - 60_000;
    await normalWindow('routed', 430, t0, t1);
    await createBaseline(server, {
      endpoint: 'routed',
      name: 'ref',
      from: new Date(t0).toISOString(),
      to: new Date(t1).toISOString(),
    });
    await createSchedule(server, {
      name: 'routed-s',
      endpoint: 'routed',
      baseline: 'ref',
      checks: {
        classShare: { threshold: 0.4 },
        lowConfidence: { confidenceThreshold: 0.5, maxShare: 0.1 },
        completeness: { minNonNullShare: 0.99 },
      },
    });
    const clean = await run(server, 'routed-s');
    expect(clean.violations).toEqual([]);
    await windowAfter(
      'routed',
      [
        ...Array.from({ length: 60 }, () => ({ classId: 14, confidence: 0.3 })),
        ...Array.from({ length: 35 }, () => ({ classId: 1, confidence: 0.9 })),
        ...Array.from({ length: 5 }, () => ({ classId: null })),
      ],
      clean.windowEnd,
    );
    const bad = await run(server, 'routed-s');
    expect(bad.status).toBe('CompletedWithViolations');
    expect(bad.violations.map((v) => [v.check, v.constraintCheckType, v.featureName])).toEqual([
      ['CLASS_SHARE', 'baseline_drift_check', 'PredictedClass'],
      ['LOW_CONFIDENCE', 'baseline_drift_check', 'Confidence'],
      ['COMPLETENESS', 'completeness_check', 'PredictedClass'],
      ['DRIFT', 'baseline_drift_check', 'PredictedClass'],
      ['DRIFT', 'baseline_drift_check', 'Confidence'],
    ]);
    const file = await fetch(`${server.url}/executions/${bad.id}/constraint_violations.json`);
    const { violations } = (await file.json()) as { violations: { check: string; constraint_check_type: string }[] };
    expect(violations.map((v) => v.check)).toEqual(bad.violations.map((v) => v.check));

    // an edited constraints.json turns the baseline's comparison off: the next run has no DRIFT violation
    const baselineId = (await server.client.data(BASELINE_OF, { name: 'routed-s' })).monitoringSchedule!.baseline!.id;
    const edited = {
      version: 0,
      monitoring_config: {
        distribution_constraints: {
          perform_comparison: 'Disabled',
          comparison_threshold: 0.1,
          categorical_comparison_threshold: 0.1,
          categorical_drift_method: 'LInfinity',
        },
      },
    };
    const { replaceBaselineConstraints: replaced } = await server.client.data(REPLACE_CONSTRAINTS, {
      id: baselineId,
      constraints: edited,
    });
    expectTypename(replaced, 'Baseline');
    const stored = await (await fetch(`${server.url}/baselines/${baselineId}/constraints.json`)).json();
    expect(stored).toMatchObject(edited);
    const { replaceBaselineConstraints: refused } = await server.client.data(REPLACE_CONSTRAINTS, {
      id: baselineId,
      constraints: { ...edited, features: [{ name: 'PredictedClass', inferred_type: 'String', completeness: 1 }] },
    });
    expectTypename(refused, 'ValidationError');
    expect(refused.field).toBe('constraints.features.completeness');
    expect(refused.message).toContain('not a constraint vigil enforces');
    await windowAfter(
      'routed',
      Array.from({ length: 100 }, (_, i) => ({ classId: i % 2 ? 14 : 1, confidence: 0.9 })),
      bad.windowEnd,
    );
    const undrifted = await run(server, 'routed-s');
    expect(undrifted.violations.map((v) => v.check)).toEqual(['CLASS_SHARE', 'CLASS_SHARE']);
  });

  it('completeness follows the capture mode: an endpoint capturing inputs only gets no completeness violation', async () => {
    for (const [name, mode] of [
      ['inputs', 'INPUT'],
      ['outputs', 'BOTH'],
    ] as const) {
      const { createEndpoint } = await server.client.data(CREATE_CAPTURING, { name, mode });
      expectTypename(createEndpoint, 'Endpoint');
      await createSchedule(server, {
        name: `${name}-s`,
        endpoint: name,
        checks: { minSampleSize: 4, classShare: { enabled: false }, lowConfidence: { enabled: false } },
      });
      const images = [
        'stop_like_octagon.png',
        'speed_ring.ppm',
        'warning_triangle.png',
        'noise.png',
        'gradient_128.png',
      ];
      const { predictBatch } = await server.client.data(PREDICT_BATCH, {
        endpoint: name,
        images: images.map((file) => ({ base64: fixture(file).toString('base64') })),
      });
      expect(predictBatch.__typename).toBe('PredictBatch');
    }
    const inputs = await run(server, 'inputs-s');
    expect(inputs).toMatchObject({ status: 'Completed', recordCount: 5, violations: [], insufficientData: false });
    expect(inputs.message).toBe('Completed: no violations');
    // no output captured: nothing to share out or average, and nothing missing
    expect(metricNames(inputs)).toEqual(['insufficient_data', 'record_count', 'violation_count']);
    const outputs = await run(server, 'outputs-s');
    expect(outputs).toMatchObject({ status: 'Completed', recordCount: 5, violations: [] });
    expect(metric(outputs, 'non_null_share')).toBe(1);
    expect(metric(outputs, 'confidence_mean')).toBeGreaterThan(0);
  });

  it('a paused schedule does not fire; resumed, it runs from its next cron time, its window covering the pause', async () => {
    await createSchedule(server, { name: 'paused-s', endpoint: 'paused', cron: '*/5 * * * *' });
    const { pauseMonitoringSchedule: paused } = await server.client.data(PAUSE, { name: 'paused-s' });
    expectTypename(paused, 'MonitoringSchedule');
    expect(paused).toMatchObject({ status: 'PAUSED', nextRunAt: null });
    expect(Date.parse(paused.pausedAt!)).toBeLessThanOrEqual(Date.now());
    // pausing again changes nothing
    const { pauseMonitoringSchedule: again } = await server.client.data(PAUSE, { name: 'paused-s' });
    expect(again).toEqual(paused);

    // even a due time written meanwhile does not make the scheduler (ticking every 50 ms) run it
    const prisma = server.app.database.prisma;
    await prisma.monitoringSchedule.update({
      where: { name: 'paused-s' },
      data: { nextRunAt: new Date(Date.now() - 1000) },
    });
    await normalWindow('paused', 40, Date.now() - 30_000, Date.now() - 1000);
    expect(await server.app.services.monitor.scheduler.tick()).toBe(0);
    await sleep(300);
    const state = async () => (await server.client.data(SCHEDULE_STATE, { name: 'paused-s' })).monitoringSchedule!;
    const executionsOf = async () => {
      const { executions } = await state();
      expectTypename(executions, 'MonitoringScheduleExecutionList');
      return executions.executions;
    };
    expect(await executionsOf()).toEqual([]);
    expect(await scrape()).toContain('vigil_monitor_schedule_paused{schedule="paused-s",endpoint="paused"} 1\n');

    const { resumeMonitoringSchedule: resumed } = await server.client.data(RESUME, { name: 'paused-s' });
    expectTypename(resumed, 'MonitoringSchedule');
    expect(resumed).toMatchObject({ status: 'ACTIVE', pausedAt: null });
    expect(Date.parse(resumed.nextRunAt!)).toBeGreaterThan(Date.now());
    expect(Date.parse(resumed.nextRunAt!) % (5 * 60_000)).toBe(0);
    expect(await scrape()).toContain('vigil_monitor_schedule_paused{schedule="paused-s",endpoint="paused"} 0\n');

    // due again (as at its next cron time): the scheduler runs it, over every capture since the start
    await prisma.monitoringSchedule.update({
      where: { name: 'paused-s' },
      data: { nextRunAt: new Date(Date.now() - 1000) },
    });
    const [execution] = await until('the resumed schedule to run', async () => {
      const list = await executionsOf();
      return list.length && list[0]!.status !== 'InProgress' ? list : null;
    });
    expect(execution!.trigger).toBe('SCHEDULED');
    const { monitoringExecution } = await server.client.data(EXECUTION_BY_ID, { id: execution!.id });
    expect(monitoringExecution!.recordCount).toBe(40);
  });

  it('an execution has its own statistics.json and a link to the captures of its window', async () => {
    await normalWindow('linked', 40, Date.now() - 30_000, Date.now() - 1000);
    await createSchedule(server, { name: 'linked-s', endpoint: 'linked' });
    const e = await run(server, 'linked-s');
    expect(e.recordCount).toBe(40);
    // later captures are outside its window
    await windowAfter('linked', normalClasses(7), e.windowEnd);

    const { monitoringExecution: x } = await server.client.data(EXECUTION_LINKS, { id: e.id, first: 5 });
    const statistics = x!.statistics as { dataset: { item_count: number }; features: { name: string }[] };
    expect(statistics.dataset).toEqual({ item_count: 40 });
    expect(statistics.features.map((f) => f.name)).toEqual(['PredictedClass', 'Confidence']);
    const download = await fetch(`${server.url}${x!.statisticsUrl}`);
    expect(download.status).toBe(200);
    expect(await download.json()).toEqual(statistics);
    expect((await fetch(`${server.url}/executions/nope/statistics.json`)).status).toBe(404);

    expectTypename(x!.captures, 'CaptureConnection');
    expect(x!.captures.totalCount).toBe(40);
    expect(x!.captures.edges).toHaveLength(5);
    for (const { node } of x!.captures.edges) {
      expect(Date.parse(node.inferenceTime)).toBeGreaterThanOrEqual(Date.parse(x!.windowStart));
      expect(Date.parse(node.inferenceTime)).toBeLessThan(Date.parse(x!.windowEnd));
    }

    const { captures } = await server.client.data(CAPTURES_OF_EXECUTION, { endpoint: 'linked', execution: e.id });
    expectTypename(captures, 'CaptureConnection');
    expect(captures.totalCount).toBe(40);
    // from narrows the window further
    const half = new Date((Date.parse(e.windowStart) + Date.parse(e.windowEnd)) / 2).toISOString();
    const { captures: later } = await server.client.data(CAPTURES_OF_EXECUTION, {
      endpoint: 'linked',
      execution: e.id,
      from: half,
    });
    expectTypename(later, 'CaptureConnection');
    expect(later.totalCount).toBeGreaterThan(0);
    expect(later.totalCount).toBeLessThan(40);
    const { captures: other } = await server.client.data(CAPTURES_OF_EXECUTION, { endpoint: 'quiet', execution: e.id });
    expectTypename(other, 'ValidationError');
    expect(other.field).toBe('filter.execution');
    const { captures: unknown } = await server.client.data(CAPTURES_OF_EXECUTION, {
      endpoint: 'linked',
      execution: 'nope',
    });
    expectTypename(unknown, 'NotFoundError');
  });

  it("runs the checks over any window: counts exactly its captures, and moves no schedule's window", async () => {
    const base = Date.now() - 600_000;
    const from = base + 10_000;
    const to = base + 50_000;
    // spread over [base, base + 60 s), plus one exactly at `from` (in) and one exactly at `to` (out)
    const times = [...spread(100, base, base + 60_000), from, to];
    const specs = times.map((at, i) => ({ classId: i % 43, confidence: 0.9, at }));
    await insertCaptures(server, ids.adhoc!, specs);
    const inside = times.filter((t) => t >= from && t < to).length;
    expect(inside).toBeGreaterThan(60);

    await createSchedule(server, { name: 'adhoc-s', endpoint: 'adhoc' });
    const first = await run(server, 'adhoc-s');
    expect(first.recordCount).toBe(102);
    const before = (await server.client.data(SCHEDULE_STATE, { name: 'adhoc-s' })).monitoringSchedule!;

    const { runMonitoringJob: job } = await server.client.data(RUN_JOB, {
      input: {
        endpoint: 'adhoc',
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        checks: { minSampleSize: 10, classShare: { threshold: 0.02 } },
      },
    });
    expectTypename(job, 'MonitoringExecution');
    expect(job).toMatchObject({
      trigger: 'AD_HOC',
      schedule: null,
      endpoint: 'adhoc',
      status: 'CompletedWithViolations',
      recordCount: inside,
      windowStart: new Date(from).toISOString(),
      windowEnd: new Date(to).toISOString(),
      insufficientData: false,
    });
    expect(job.violations.every((v) => v.check === 'CLASS_SHARE')).toBe(true);
    expect(metric(job, 'record_count')).toBe(inside);

    // the schedule's next run and windows are as they were
    const after = (await server.client.data(SCHEDULE_STATE, { name: 'adhoc-s' })).monitoringSchedule!;
    expect(after.nextRunAt).toBe(before.nextRunAt);
    expect(after.executions).toEqual(before.executions);
    await windowAfter('adhoc', normalClasses(3), first.windowEnd);
    const next = await run(server, 'adhoc-s');
    expect(next.windowStart).toBe(first.windowEnd);
    expect(next.recordCount).toBe(3);
    // nor is the ad-hoc run in the schedule's series
    const { metrics } = await server.client.data(SERIES, { schedule: 'adhoc-s', name: 'record_count' });
    expectTypename(metrics, 'MonitoringMetricSeries');
    expect(metrics.points.map((p) => p.executionId)).toEqual([first.id, next.id]);

    // listed with the endpoint's executions, and fetched by id
    const { monitoringExecutions: adHoc } = await server.client.data(EXECUTIONS_OF_ENDPOINT, {
      endpoint: 'adhoc',
      trigger: 'AD_HOC',
    });
    expectTypename(adHoc, 'MonitoringExecutionList');
    expect(adHoc.executions).toEqual([{ id: job.id, trigger: 'AD_HOC', schedule: null }]);
    const { monitoringExecutions: all } = await server.client.data(EXECUTIONS_OF_ENDPOINT, { endpoint: 'adhoc' });
    expectTypename(all, 'MonitoringExecutionList');
    expect(all.executions.map((e) => e.id).sort()).toEqual([first.id, job.id, next.id].sort());
    const { monitoringExecution } = await server.client.data(EXECUTION_BY_ID, { id: job.id });
    expect(monitoringExecution).toEqual({ id: job.id, trigger: 'AD_HOC', schedule: null, recordCount: inside });

    // an ad-hoc run whose replica stopped (no lease to expire): failed by a tick a lease's length after it started
    const prisma = server.app.database.prisma;
    await prisma.monitoringExecution.create({
      data: {
        id: 'stale-ad-hoc',
        endpointId: ids.adhoc!,
        trigger: 'AD_HOC',
        status: 'InProgress',
        windowStart: new Date(from),
        windowEnd: new Date(to),
        startedAt: new Date(Date.now() - 6 * 60_000),
      },
    });
    await until('the stale ad-hoc execution to be marked failed', async () => {
      const row = await prisma.monitoringExecution.findUniqueOrThrow({ where: { id: 'stale-ad-hoc' } });
      return row.status === 'Failed' && row.message?.startsWith('Failed: abandoned');
    });

    // windows it cannot run
    const invalid: [Record<string, string>, string, string][] = [
      [{ from: new Date(to).toISOString(), to: new Date(from).toISOString() }, 'ValidationError', 'input.to'],
      [
        { from: new Date(from).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
        'ValidationError',
        'input.to',
      ],
      [{ baseline: 'nope' }, 'NotFoundError', ''],
      [{ endpoint: 'nope' }, 'NotFoundError', ''],
    ];
    for (const [patch, typename, field] of invalid) {
      const { runMonitoringJob: refused } = await server.client.data(RUN_JOB, {
        input: { endpoint: 'adhoc', from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...patch },
      });
      expect(refused.__typename).toBe(typename);
      if (field && refused.__typename === 'ValidationError') expect(refused.field).toBe(field);
    }
  });
});
