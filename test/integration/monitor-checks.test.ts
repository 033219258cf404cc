/**
 * Each check triggered and not triggered by crafted windows (low confidence, completeness, drift by
 * L∞ / chi-squared / confidence shift, minimum sample size), and baselines: from a window and from a
 * directory of images, exported as statistics.json / constraints.json.
 */
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import {
  type BaselineInput,
  type CaptureSpec,
  CREATE_BASELINE,
  createBaseline,
  createEndpoint,
  createSchedule,
  insertCaptures,
  normalClasses,
  run,
  spread,
} from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';

const FIXTURES = 'models/gtsrb-resnet18/fixtures';

const UPDATE_DRIFT = graphql(`
  mutation UpdateScheduleDrift($name: String!, $input: UpdateMonitoringScheduleInput!) {
    updateMonitoringSchedule(name: $name, input: $input) {
      __typename
      ... on MonitoringSchedule { checks { drift { enabled lInfinityThreshold } } }
    }
  }
`);
const PREDICT = graphql(`
  mutation PredictClass($endpoint: String!, $image: String!) {
    predict(endpoint: $endpoint, image: { base64: $image }) { __typename ... on Prediction { predictedClass } }
  }
`);
const BASELINES = graphql(`
  query Baselines($endpoint: String) {
    baselines(endpoint: $endpoint) {
      __typename
      ... on BaselineList { baselines { name } }
      ... on NotFoundError { resource key }
    }
  }
`);
const DELETE_BASELINE = graphql(`
  mutation DeleteBaseline($id: ID!) { deleteBaseline(id: $id) { __typename ... on Baseline { name } } }
`);

describe('model monitor checks', () => {
  const server = useTestServer();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    for (const name of ['lowconf', 'complete', 'few', 'drift', 'chi']) ids[name] = await createEndpoint(server, name);
  });

  /** captures after the schedule's previous window (or in the past minute when it has none) */
  async function window(endpoint: string, specs: Omit<CaptureSpec, 'at'>[], after?: string): Promise<void> {
    const from = after ? Date.parse(after) : Date.now() - 60_000;
    await new Promise((r) => setTimeout(r, 20));
    const times = spread(specs.length, from, Date.now());
    await insertCaptures(
      server,
      ids[endpoint]!,
      specs.map((s, i) => ({ ...s, at: times[i]! })),
    );
  }
  const repeat = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);
  const metric = (execution: { metrics: { name: string; value: number }[] }, name: string) =>
    execution.metrics.find((m) => m.name === name)?.value;

  it('low confidence: within the limit passes, above it is a violation (confidence strictly below the threshold)', async () => {
    await createSchedule(server, {
      name: 'lowconf-s',
      endpoint: 'lowconf',
      checks: { classShare: { enabled: false }, lowConfidence: { confidenceThreshold: 0.6, maxShare: 0.2 } },
    });
    await window('lowconf', [
      ...repeat(15, { classId: 3, confidence: 0.55 }),
      ...repeat(85, { classId: 4, confidence: 0.9 }),
    ]);
    const ok = await run(server, 'lowconf-s');
    expect(ok).toMatchObject({ status: 'Completed', recordCount: 100, violations: [] });
    expect(metric(ok, 'low_confidence_share')).toBeCloseTo(0.15, 12);

    await window(
      'lowconf',
      [
        ...repeat(30, { classId: 3, confidence: 0.59 }),
        ...repeat(5, { classId: 3, confidence: 0.6 }),
        ...repeat(65, { classId: 5, confidence: 0.95 }),
      ],
      ok.windowEnd,
    );
    const bad = await run(server, 'lowconf-s');
    expect(bad.status).toBe('CompletedWithViolations');
    expect(bad.violations).toEqual([
      {
        check: 'LOW_CONFIDENCE',
        featureName: 'Confidence',
        constraintCheckType: 'baseline_drift_check',
        description: '30.00% of predictions (30 of 100) had all top-3 scores below 0.6: exceeded 20.00% threshold',
      },
    ]);
  });

  it('completeness: unreadable outputs within the allowed share pass, beyond it are a completeness_check', async () => {
    await createSchedule(server, {
      name: 'complete-s',
      endpoint: 'complete',
      checks: { classShare: { enabled: false }, completeness: { minNonNullShare: 0.99 } },
    });
    await window('complete', [...repeat(200, { classId: 7 }), { classId: null }]);
    const ok = await run(server, 'complete-s');
    expect(ok).toMatchObject({ status: 'Completed', recordCount: 201, violations: [] });
    expect(metric(ok, 'non_null_share')).toBeCloseTo(200 / 201, 12);

    await window('complete', [...repeat(100, { classId: 7 }), ...repeat(5, { classId: null })], ok.windowEnd);
    const bad = await run(server, 'complete-s');
    expect(bad.status).toBe('CompletedWithViolations');
    expect(bad.violations).toEqual([
      {
        check: 'COMPLETENESS',
        featureName: 'PredictedClass',
        constraintCheckType: 'completeness_check',
        description:
          'Completeness 95.24% of PredictedClass is below the 99.00% threshold: 5 of 105 captured outputs could not be read',
      },
    ]);
    expect(bad.classCounts).toEqual({ '7': 100 });
  });

  it('below the minimum sample size reports insufficient data instead of guessing', async () => {
    await createSchedule(server, { name: 'few-s', endpoint: 'few' });
    await window('few', repeat(12, { classId: 14 }));
    const e = await run(server, 'few-s');
    expect(e).toMatchObject({
      status: 'Completed',
      recordCount: 12,
      violations: [],
      message: 'Completed: insufficient data: 12 captures in the window, fewer than the minimum sample size of 30',
    });
    expect(e.insufficientData).toBe(true);
    // counts are kept; shares of 12 captures would be judged by alert rules as if they meant something
    expect(metric(e, 'class_count_14')).toBe(12);
    expect(metric(e, 'insufficient_data')).toBe(1);
    expect(metric(e, 'max_class_share')).toBeUndefined();
    expect(metric(e, 'violation_count')).toBeUndefined();
  });

  it('drift: a window baseline (exported as statistics.json and constraints.json) flags class (L∞) and confidence shifts', async () => {
    const t0 = Date.now() - 120_000;
    const t1 = Date.now() - 60_000;
    const normal = normalClasses(430);
    await insertCaptures(
      server,
      ids.drift!,
      spread(430, t0, t1).map((at, i) => ({ ...normal[i]!, at })),
    );
    const baseline = await createBaseline(server, {
      endpoint: 'drift',
      name: 'ref',
      from: new Date(t0).toISOString(),
      to: new Date(t1).toISOString(),
    });
    expect(baseline).toMatchObject({
      __typename: 'Baseline',
      name: 'ref',
      endpoint: 'drift',
      source: 'WINDOW',
      itemCount: 430,
    });
    const { statistics, constraints } = baseline;
    expect(statistics.dataset).toEqual({ item_count: 430 });
    const [cls, conf] = statistics.features;
    expect(cls).toMatchObject({
      name: 'PredictedClass',
      inferred_type: 'String',
      string_statistics: { common: { num_present: 430, num_missing: 0 }, distinct_count: 43 },
    });
    expect(conf.name).toBe('Confidence');
    const n = conf.numerical_statistics;
    const values = normal.map((c) => c.confidence);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(n.mean).toBeCloseTo(mean, 9);
    expect(n.min).toBe(Math.min(...values));
    expect(n.max).toBe(Math.max(...values));
    expect(n.std_dev).toBeCloseTo(Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length), 9);
    expect(n.distribution.kll.buckets).toHaveLength(10);
    expect(n.distribution.kll.buckets.reduce((s, b) => s + b.count, 0)).toBe(430);
    const sorted = [...values].sort((a, b) => a - b);
    const median = n.quantiles.find((q) => q.quantile === 0.5)!.value;
    expect(Math.abs(median - sorted[214]!)).toBeLessThan(0.0015);
    // only the constraints vigil enforces
    expect(constraints.features).toEqual([
      { name: 'PredictedClass', inferred_type: 'String' },
      { name: 'Confidence', inferred_type: 'Fractional' },
    ]);
    expect(Object.keys(constraints.monitoring_config)).toEqual(['distribution_constraints']);
    expect(constraints.monitoring_config.distribution_constraints).toEqual({
      perform_comparison: 'Enabled',
      comparison_threshold: 0.1,
      categorical_comparison_threshold: 0.1,
      categorical_drift_method: 'LInfinity',
    });
    expect(await (await fetch(`${server.url}${baseline.statisticsUrl}`)).json()).toEqual(statistics);
    expect(await (await fetch(`${server.url}/baselines/${baseline.id}/constraints.json`)).json()).toEqual(constraints);
    expect((await fetch(`${server.url}/baselines/nope/constraints.json`)).status).toBe(404);

    const schedule = await createSchedule(server, {
      name: 'drift-s',
      endpoint: 'drift',
      baseline: 'ref',
      checks: { classShare: { enabled: false } },
    });
    expect(schedule.baseline).toEqual({ name: 'ref' });
    expect(schedule.checks.drift).toEqual({
      enabled: true,
      lInfinityThreshold: null,
      chiSquaredPValue: null,
      confidenceShiftThreshold: null,
    });
    // the first window is the baseline's own data: no drift
    const same = await run(server, 'drift-s');
    expect(same).toMatchObject({ status: 'Completed', recordCount: 430, violations: [] });
    expect(metric(same, 'drift_l_infinity')).toBe(0);
    expect(metric(same, 'drift_confidence_shift')).toBeLessThan(0.01);

    // four classes only: L∞ = 0.25 − 10/430
    const four = normalClasses(400).map((c, i) => ({ ...c, classId: [1, 2, 13, 38][i % 4]! }));
    await window('drift', four, same.windowEnd);
    const shifted = await run(server, 'drift-s');
    expect(shifted.status).toBe('CompletedWithViolations');
    expect(shifted.violations).toHaveLength(1);
    expect(shifted.violations[0]?.featureName).toBe('PredictedClass');
    expect(shifted.violations[0]?.description).toMatch(
      /^Baseline drift distance \(LInfinity\) 0\.2267 of PredictedClass from baseline 'ref' exceeded the 0\.1 threshold: class 1 \(Speed limit \(30km\/h\)\) 2\.33% → 25\.00%$/,
    );
    expect(metric(shifted, 'drift_l_infinity')).toBeCloseTo(0.25 - 10 / 430, 12);

    // the same classes, but every confidence 0.2 lower
    await window(
      'drift',
      normalClasses(400).map((c) => ({ ...c, confidence: c.confidence - 0.2 })),
      shifted.windowEnd,
    );
    const unsure = await run(server, 'drift-s');
    expect(unsure.violations.map((v) => v.featureName)).toEqual(['Confidence']);
    expect(unsure.violations[0]?.description).toMatch(
      /^Baseline drift distance 0\.\d{4} of Confidence from baseline 'ref' exceeded the 0\.1 threshold: mean 0\.8\d+ → 0\.6\d+$/,
    );
    expect(metric(unsure, 'drift_confidence_shift')).toBeGreaterThan(0.5);
  });

  it('drift: a ChiSquared baseline tests the class histogram by p-value; a schedule threshold adds L∞', async () => {
    const normal = normalClasses(430);
    await insertCaptures(
      server,
      ids.chi!,
      spread(430, Date.now() - 120_000, Date.now() - 60_000).map((at, i) => ({ ...normal[i]!, at })),
    );
    const baseline = await createBaseline(server, {
      endpoint: 'chi',
      name: 'ref',
      categoricalDriftMethod: 'ChiSquared',
      categoricalThreshold: 0.05,
    });
    expect(baseline.itemCount).toBe(430);
    expect(baseline.constraints.monitoring_config.distribution_constraints).toMatchObject({
      categorical_drift_method: 'ChiSquared',
      categorical_comparison_threshold: 0.05,
    });
    await createSchedule(server, {
      name: 'chi-s',
      endpoint: 'chi',
      baseline: baseline.id,
      checks: { classShare: { enabled: false } },
    });
    const same = await run(server, 'chi-s');
    expect(same).toMatchObject({ status: 'Completed', violations: [] });
    expect(metric(same, 'drift_chi_squared_p_value')).toBeGreaterThan(0.99);

    // classes 1, 2 and 3 at about 9 % each: L∞ ≈ 0.07, below 0.1, but far from chance
    const mild = () => normalClasses(400).map((c, i) => (i < 90 ? { ...c, classId: [1, 2, 3][i % 3]! } : c));
    await window('chi', mild(), same.windowEnd);
    const drifted = await run(server, 'chi-s');
    expect(drifted.violations).toHaveLength(1);
    expect(drifted.violations[0]?.description).toMatch(
      /^PredictedClass distribution differs from baseline 'ref' \(ChiSquared\): statistic \d+\.\d\d with 42 degrees of freedom, p-value \d\.\d{3}e-\d+ below 0\.05$/,
    );
    expect(metric(drifted, 'drift_l_infinity')).toBeLessThan(0.1);

    const { updateMonitoringSchedule: u } = await server.client.data(UPDATE_DRIFT, {
      name: 'chi-s',
      input: { checks: { drift: { lInfinityThreshold: 0.04 } } },
    });
    expectTypename(u, 'MonitoringSchedule');
    expect(u.checks.drift).toEqual({ enabled: true, lInfinityThreshold: 0.04 });
    await window('chi', mild(), drifted.windowEnd);
    const both = await run(server, 'chi-s');
    expect(both.violations.map((v) => v.description.split(' ').slice(0, 4).join(' '))).toEqual([
      'Baseline drift distance (LInfinity)',
      'PredictedClass distribution differs from',
    ]);
  });

  it('a baseline from a directory of images predicts each with the endpoint model, as serving does', async () => {
    const images = fs
      .readdirSync(FIXTURES)
      .filter((f) => /\.(png|jpe?g|webp|ppm)$/.test(f))
      .sort();
    const baseline = await createBaseline(server, { endpoint: 'drift', name: 'fixtures', directory: FIXTURES });
    expect(baseline).toMatchObject({ __typename: 'Baseline', source: 'DIRECTORY', itemCount: images.length });

    const served = new Map<number, number>();
    for (const image of images) {
      const { predict } = await server.client.data(PREDICT, {
        endpoint: 'drift',
        image: fs.readFileSync(`${FIXTURES}/${image}`).toString('base64'),
      });
      expectTypename(predict, 'Prediction');
      served.set(predict.predictedClass, (served.get(predict.predictedClass) ?? 0) + 1);
    }
    const buckets = baseline.statistics.features[0].string_statistics.distribution.categorical.buckets;
    expect(new Map(buckets.map((b) => [Number(b.value), b.count]))).toEqual(served);

    const limited = await createBaseline(server, { endpoint: 'drift', name: 'three', directory: FIXTURES, limit: 3 });
    expect(limited.itemCount).toBe(3);
    const { baselines } = await server.client.data(BASELINES, { endpoint: 'drift' });
    expectTypename(baselines, 'BaselineList');
    expect(baselines.baselines.map((b) => b.name)).toEqual(['ref', 'fixtures', 'three']);
    const unknown = await server.client.data(BASELINES, { endpoint: 'nope' });
    expect(unknown.baselines).toEqual({ __typename: 'NotFoundError', resource: 'Endpoint', key: 'nope' });
    const { deleteBaseline } = await server.client.data(DELETE_BASELINE, { id: limited.id });
    expect(deleteBaseline).toEqual({ __typename: 'Baseline', name: 'three' });
  });

  it('rejects baselines it cannot build, with the field at fault', async () => {
    const cases: [
      Partial<BaselineInput>,
      'ValidationError' | 'NotFoundError' | 'ConflictError',
      string | undefined,
      RegExp,
    ][] = [
      [
        { directory: '/no/such/dir' },
        'ValidationError',
        'directory',
        /not inside a directory baselines may read.*or does not exist/,
      ],
      [
        { directory: '/etc' },
        'ValidationError',
        'directory',
        /not inside a directory baselines may read \(BASELINE_ROOTS: /,
      ],
      [{ directory: `${FIXTURES}/../../../src` }, 'ValidationError', 'directory', /not inside/],
      [{ directory: `${FIXTURES}/fixtures.json` }, 'ValidationError', 'directory', /not a directory/],
      [{ directory: FIXTURES, from: new Date().toISOString() }, 'ValidationError', 'directory', /not both/],
      [{ endpoint: 'nope' }, 'NotFoundError', undefined, /Endpoint 'nope' does not exist/],
      [{ categoricalThreshold: 2 }, 'ValidationError', 'categoricalThreshold', /\(0, 1\]/],
      [{ name: 'ref' }, 'ConflictError', undefined, /already has a baseline named 'ref'/],
      [
        { endpoint: 'few', name: 'empty', from: new Date(0).toISOString(), to: new Date(1000).toISOString() },
        'ValidationError',
        'from',
        /no data/,
      ],
    ];
    for (const [input, type, field, message] of cases) {
      const { createBaseline: result } = await server.client.data(CREATE_BASELINE, {
        input: { endpoint: 'drift', name: 'x', ...input },
      });
      const resultField = 'field' in result ? result.field : undefined;
      expect({ input, type: result.__typename, field: resultField }).toEqual({ input, type, field });
      expectTypename(result, type);
      expect(result.message).toMatch(message);
    }
  });
});
