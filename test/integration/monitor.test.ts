/**
 * The write-up's scenario through the real server: a window of 400 predictions with a normal spread
 * completes without violations; a window where 322 of 400 are class 14 (Stop) completes with the
 * class-share violation, and subscribers over graphql-ws and SSE receive the alert. Plus the
 * downloads, metrics and the validation errors of schedules.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql, type VariablesOf } from '../../src/graphql.ts';
import { expectTypename, SseSubscription, WsSubscription } from '../helpers/graphql.ts';
import {
  CREATE_SCHEDULE,
  createEndpoint,
  createSchedule,
  insertCaptures,
  normalClasses,
  run,
  type ScheduleInput,
  spread,
} from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';

const STOP_VIOLATION = 'Class 14 (Stop) predicted 80.50% of the time: exceeded 50.00% threshold';
const ALERTS = graphql(`
  subscription MonitorAlerts($endpoint: String) {
    monitorAlerts(endpoint: $endpoint) {
      endpoint schedule executionId status message recordCount windowStart windowEnd
      violations { check featureName constraintCheckType description }
      execution { id status classCounts }
    }
  }
`);
const EXECUTIONS = graphql(`
  query MonitoringExecutions($schedule: String!, $status: MonitoringExecutionStatus) {
    monitoringExecutions(schedule: $schedule, status: $status) {
      __typename
      ... on MonitoringExecutionList { executions { id status } }
    }
  }
`);
const METRIC_SERIES = graphql(`
  query MetricSeries($schedule: String!, $name: String!, $from: DateTime) {
    metrics(schedule: $schedule, name: $name, from: $from) {
      __typename
      ... on MonitoringMetricSeries { points { value timestamp } }
    }
  }
`);
const RUN_UNKNOWN = graphql(`
  mutation RunUnknownSchedule($name: String!) {
    runMonitoringSchedule(name: $name) { __typename ... on NotFoundError { resource key } }
  }
`);
const CRON = graphql(`
  query CronExpression($kind: CronKind!, $hour: Int, $hours: Int) {
    cronExpression(kind: $kind, hour: $hour, hours: $hours) {
      __typename
      ... on CronExpression { expression nextRuns(count: 3) { __typename ... on CronRunList { runs } } }
      ... on ValidationError { field }
    }
  }
`);
const UPDATE_SCHEDULE = graphql(`
  mutation UpdateMonitoringSchedule($name: String!, $input: UpdateMonitoringScheduleInput!) {
    updateMonitoringSchedule(name: $name, input: $input) {
      __typename
      ... on MonitoringSchedule { cron nextRunAt checks { classShare { threshold } lowConfidence { maxShare } } }
    }
  }
`);
const DELETE_SCHEDULE = graphql(`
  mutation DeleteMonitoringSchedule($name: String!) { deleteMonitoringSchedule(name: $name) { __typename } }
`);
const SCHEDULE_NAMED = graphql(`query MonitoringSchedule($name: String!) { monitoringSchedule(name: $name) { id } }`);

/** a schedule's next run as epoch ms, failing when it has none */
function nextRun(schedule: { nextRunAt: string | null }): number {
  expect(schedule.nextRunAt).not.toBeNull();
  return Date.parse(schedule.nextRunAt ?? '');
}

describe('model monitor: the write-up scenario', () => {
  const server = useTestServer();
  let endpointId: string;

  beforeAll(async () => {
    endpointId = await createEndpoint(server, 'signs');
  });

  it('completes a normal window cleanly, then flags and alerts on a window that is 80.5 % Stop signs', async () => {
    const firstAt = Date.now() - 10 * 60_000;
    const normal = normalClasses(400);
    await insertCaptures(
      server,
      endpointId,
      spread(400, firstAt, Date.now() - 1000).map((at, i) => ({ ...normal[i]!, at })),
    );
    const schedule = await createSchedule(server, {
      name: 'signs-hourly',
      endpoint: 'signs',
      cronHelper: { kind: 'HOURLY' },
    });
    expect(schedule.cron).toBe('0 * * * *');
    expect(nextRun(schedule) % 3_600_000).toBe(0);
    expect(schedule.checks.classShare).toEqual({ enabled: true, threshold: 0.5 });
    expect(schedule.checks.minSampleSize).toBe(30);
    expect(schedule.checks.drift.enabled).toBe(false);

    const first = await run(server, 'signs-hourly');
    expect(first).toMatchObject({
      status: 'Completed',
      trigger: 'MANUAL',
      recordCount: 400,
      violations: [],
      message: 'Completed: no violations',
    });
    expect(Date.parse(first.windowStart)).toBe(firstAt);
    expect(first.classes).toHaveLength(43);
    expect(first.classes.reduce((s, c) => s + c.count, 0)).toBe(400);

    const ws = new WsSubscription(server.wsUrl, ALERTS, { endpoint: 'signs' });
    const wsAll = new WsSubscription(server.wsUrl, ALERTS);
    const wsOther = new WsSubscription(server.wsUrl, ALERTS, { endpoint: 'other' });
    const sse = new SseSubscription(server.graphqlUrl, ALERTS, { endpoint: 'signs' });
    await Promise.all([ws.ready(), wsAll.ready(), wsOther.ready(), sse.ready()]);

    // the second window: 322 Stop signs among 400, captured after the first window closed
    const windowStart = Date.parse(first.windowEnd);
    await new Promise((r) => setTimeout(r, 40));
    const times = spread(400, windowStart, Date.now());
    const mix = normalClasses(100).filter((c) => c.classId !== 14);
    await insertCaptures(
      server,
      endpointId,
      times.map((at, i) => (i % 400 < 322 ? { classId: 14, confidence: 0.97, at } : { ...mix[i - 322]!, at })),
    );
    const second = await run(server, 'signs-hourly');
    const finishedAt = Date.now();
    expect(second.status).toBe('CompletedWithViolations');
    expect(second.recordCount).toBe(400);
    expect(Date.parse(second.windowStart)).toBe(windowStart);
    expect(second.violations[0]).toEqual({
      check: 'CLASS_SHARE',
      featureName: 'PredictedClass',
      constraintCheckType: 'baseline_drift_check',
      description: STOP_VIOLATION,
    });
    expect(second.violations).toHaveLength(1);
    expect(second.message).toBe(`CompletedWithViolations: ${STOP_VIOLATION}`);
    expect(second.classCounts['14']).toBe(322);
    expect(second.classes.find((c) => c.classId === 14)).toEqual({
      classId: 14,
      label: 'Stop',
      count: 322,
      share: 0.805,
    });
    const metric = (name: string) => second.metrics.find((m) => m.name === name)?.value;
    expect(metric('class_count_14')).toBe(322);
    expect(metric('max_class_share')).toBeCloseTo(0.805, 10);
    expect(metric('non_null_share')).toBe(1);
    expect(metric('violation_count')).toBe(1);
    expect(metric('record_count')).toBe(400);

    for (const sub of [ws, wsAll, sse]) {
      const [event] = await sub.waitFor(1, Math.max(1, 1000 - (Date.now() - finishedAt)));
      expect(event?.monitorAlerts).toMatchObject({
        endpoint: 'signs',
        schedule: 'signs-hourly',
        executionId: second.id,
        status: 'CompletedWithViolations',
        message: second.message,
        recordCount: 400,
        violations: second.violations,
        execution: { id: second.id, status: 'CompletedWithViolations' },
      });
    }
    expect(Date.now() - finishedAt).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 200));
    expect(wsOther.events).toHaveLength(0);
    expect(ws.events).toHaveLength(1);
    await Promise.all([ws.close(), wsAll.close(), wsOther.close()]);
    sse.close();

    // listings by schedule and status
    const list = async (status?: VariablesOf<typeof EXECUTIONS>['status']) => {
      const { monitoringExecutions } = await server.client.data(EXECUTIONS, { schedule: 'signs-hourly', status });
      expectTypename(monitoringExecutions, 'MonitoringExecutionList');
      return monitoringExecutions.executions;
    };
    expect((await list()).map((e) => e.id)).toEqual([second.id, first.id]);
    expect((await list('CompletedWithViolations')).map((e) => e.id)).toEqual([second.id]);
    expect((await list('Completed')).map((e) => e.id)).toEqual([first.id]);
    expect(await list('Failed')).toEqual([]);

    // the metric as a time series
    const series = async (from?: string) => {
      const { metrics } = await server.client.data(METRIC_SERIES, {
        schedule: 'signs-hourly',
        name: 'class_count_14',
        from,
      });
      expectTypename(metrics, 'MonitoringMetricSeries');
      return metrics.points;
    };
    const points = await series();
    expect(points.map((p) => p.value)).toEqual([first.classCounts['14'] ?? 0, 322]);
    expect(points.map((p) => p.timestamp)).toEqual([first.windowEnd, second.windowEnd]);
    expect(await series(second.windowEnd)).toEqual([{ value: 322, timestamp: second.windowEnd }]);

    // downloads
    const violations = await fetch(`${server.url}/executions/${second.id}/constraint_violations.json`);
    expect(violations.status).toBe(200);
    expect(await violations.json()).toEqual({
      violations: [
        {
          check: 'CLASS_SHARE',
          feature_name: 'PredictedClass',
          constraint_check_type: 'baseline_drift_check',
          description: STOP_VIOLATION,
        },
      ],
    });
    const png = await fetch(`${server.url}/executions/${second.id}/classes.png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await png.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 960, 420]);
    expect((await fetch(`${server.url}/executions/nope/classes.png`)).status).toBe(404);

    const scrape = await fetch(`${server.url}/metrics`);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    expect(text).toContain('# TYPE vigil_monitor_class_count gauge');
    expect(text).toContain(
      'vigil_monitor_class_count{schedule="signs-hourly",endpoint="signs",class="14",label="Stop"} 322',
    );
    expect(text).toContain('vigil_monitor_max_class_share{schedule="signs-hourly",endpoint="signs"} 0.805');
    expect(text).toContain('vigil_monitor_violation_count{schedule="signs-hourly",endpoint="signs"} 1');
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it('rejects invalid schedules with typed errors naming the field', async () => {
    const create = async (input: Partial<ScheduleInput>) =>
      (
        await server.client.data(CREATE_SCHEDULE, {
          input: { name: 'bad', endpoint: 'signs', cron: '0 * * * *', ...input },
        })
      ).createMonitoringSchedule;
    const cases: [Partial<ScheduleInput>, 'ValidationError' | 'NotFoundError', string | undefined, RegExp][] = [
      [{ cron: '61 * * * *' }, 'ValidationError', 'cron', /minute value 61 is out of range 0–59/],
      [{ cron: '* * * *' }, 'ValidationError', 'cron', /expected 5 fields/],
      [{ cron: '0 0 30 2 *' }, 'ValidationError', 'cron', /never fires/],
      [{ cron: null }, 'ValidationError', 'cron', /needs cron/],
      [
        { cronHelper: { kind: 'EVERY_N_HOURS', hours: 0 }, cron: null },
        'ValidationError',
        'cronHelper.hours',
        /from 1 to 23/,
      ],
      [{ endpoint: 'nope' }, 'NotFoundError', undefined, /Endpoint 'nope' does not exist/],
      [{ checks: { classShare: { threshold: 1.5 } } }, 'ValidationError', 'checks.classShare.threshold', /\(0, 1\]/],
      [{ checks: { lowConfidence: { maxShare: 0 } } }, 'ValidationError', 'checks.lowConfidence.maxShare', /\(0, 1\]/],
      [
        { checks: { completeness: { minNonNullShare: -0.1 } } },
        'ValidationError',
        'checks.completeness.minNonNullShare',
        /\(0, 1\]/,
      ],
      [{ checks: { drift: { enabled: true } } }, 'ValidationError', 'checks.drift.enabled', /baseline/],
      [{ checks: { minSampleSize: 0 } }, 'ValidationError', 'checks.minSampleSize', /≥ 1/],
      [{ baseline: 'missing' }, 'NotFoundError', undefined, /no baseline 'missing'/],
      [{ name: 'bad name' }, 'ValidationError', 'name', /invalid/],
    ];
    for (const [input, type, field, message] of cases) {
      const result = await create(input);
      const resultField = 'field' in result ? result.field : undefined;
      expect({ input, type: result.__typename, field: resultField }).toEqual({ input, type, field });
      expectTypename(result, type);
      expect(result.code).toBe(type === 'NotFoundError' ? 'NOT_FOUND' : 'VALIDATION');
      expect(result.message).toMatch(message);
    }
    expect((await create({ name: 'signs-hourly' })).__typename).toBe('ConflictError');

    const { runMonitoringSchedule } = await server.client.data(RUN_UNKNOWN, { name: 'nope' });
    expect(runMonitoringSchedule).toEqual({ __typename: 'NotFoundError', resource: 'MonitoringSchedule', key: 'nope' });
  });

  it('builds cron expressions with the helpers and runs sub-hour crons', async () => {
    const cron = async (variables: VariablesOf<typeof CRON>) =>
      (await server.client.data(CRON, variables)).cronExpression;
    const expression = async (variables: VariablesOf<typeof CRON>) => {
      const result = await cron(variables);
      expectTypename(result, 'CronExpression');
      return result;
    };
    expect((await expression({ kind: 'HOURLY' })).expression).toBe('0 * * * *');
    expect((await expression({ kind: 'DAILY', hour: 6 })).expression).toBe('0 6 * * *');
    const everySix = await expression({ kind: 'EVERY_N_HOURS', hours: 6, hour: 1 });
    expect(everySix.expression).toBe('0 1/6 * * *');
    expectTypename(everySix.nextRuns, 'CronRunList');
    expect(everySix.nextRuns.runs.map((d) => new Date(d).getUTCHours()).every((h) => [1, 7, 13, 19].includes(h))).toBe(
      true,
    );
    expect(await cron({ kind: 'DAILY', hour: 24 })).toEqual({ __typename: 'ValidationError', field: 'hour' });

    const s = await createSchedule(server, { name: 'five-minutes', endpoint: 'signs', cron: '*/5 * * * *' });
    expect(new Date(nextRun(s)).getUTCMinutes() % 5).toBe(0);
    expect(nextRun(s) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    const { updateMonitoringSchedule: u } = await server.client.data(UPDATE_SCHEDULE, {
      name: 'five-minutes',
      input: { cronHelper: { kind: 'DAILY', hour: 3 }, checks: { classShare: { threshold: 0.9 } } },
    });
    expectTypename(u, 'MonitoringSchedule');
    expect(u.cron).toBe('0 3 * * *');
    expect(new Date(nextRun(u)).getUTCHours()).toBe(3);
    expect(u.checks).toEqual({ classShare: { threshold: 0.9 }, lowConfidence: { maxShare: 0.2 } });
    const { deleteMonitoringSchedule: d } = await server.client.data(DELETE_SCHEDULE, { name: 'five-minutes' });
    expect(d.__typename).toBe('MonitoringSchedule');
    expect((await server.client.data(SCHEDULE_NAMED, { name: 'five-minutes' })).monitoringSchedule).toBeNull();
  });
});
