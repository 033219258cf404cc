/**
 * Input drift and outliers through the real server: a baseline from a directory of synthetic signs
 * gets an input profile (the serving graph's features projected by PCA, a held-out reference, image
 * statistics); every prediction then has an outlierScore, stored with its capture and filterable; the
 * inputDrift check flags a strongly shifted set (blurred, darkened, noisy) and not a fresh sample of
 * the same distribution.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { noiseImages, syntheticSigns } from '../helpers/images.ts';
import {
  createBaseline,
  createEndpoint,
  createSchedule,
  EXECUTION,
  insertCaptures,
  MONITOR_ERROR,
  spread,
} from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-input-drift-'));
const REFERENCE = path.join(ROOT, 'reference');

const CREATE_ENDPOINT = graphql(`
  mutation CreateDriftEndpoint($name: String!) {
    createEndpoint(input: { name: $name, dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
  }
`);
const PREDICT_BATCH = graphql(`
  mutation PredictForDrift($endpoint: String!, $images: [ImageInput!]!) {
    predictBatch(endpoint: $endpoint, images: $images) {
      __typename
      ... on PredictBatch { predictions { __typename ... on Prediction { captureId outlierScore } } }
    }
  }
`);
const PROFILE = graphql(`
  query BaselineProfile($id: ID!) {
    baseline(id: $id) { inputProfile { itemCount featureSize components explainedVariance referenceSize } }
  }
`);
const RUN_JOB = graphql(
  `
  mutation RunInputDriftJob($input: MonitoringJobInput!) {
    runMonitoringJob(input: $input) { __typename ...MonitoringExecutionFields ...MonitorErrorFields }
  }
`,
  [EXECUTION, MONITOR_ERROR],
);
const IMAGE_STATS = graphql(`
  query CaptureImageStats($endpoint: String!) {
    captures(endpoint: $endpoint, first: 20) {
      __typename
      ... on CaptureConnection {
        edges { node { imageStats { brightness contrast saturation width height aspectRatio } } }
      }
    }
  }
`);
const CAPTURES = graphql(`
  query OutlierCaptures($endpoint: String!, $filter: CaptureFilter) {
    captures(endpoint: $endpoint, first: 250, filter: $filter) {
      __typename
      ... on CaptureConnection { totalCount edges { node { id outlierScore } } }
      ... on ValidationError { field message }
    }
  }
`);

interface Scored {
  captureId: string | null;
  outlierScore: number | null;
}

describe('input drift and outlier scores', () => {
  const server = useTestServer({ env: { BASELINE_ROOTS: ROOT } });
  let baselineId = '';

  beforeAll(async () => {
    fs.mkdirSync(REFERENCE);
    const images = await syntheticSigns(240, 1);
    images.forEach((png, i) => fs.writeFileSync(path.join(REFERENCE, `sign-${String(i).padStart(3, '0')}.png`), png));
    const { createEndpoint: created } = await server.client.data(CREATE_ENDPOINT, { name: 'street' });
    expect(created.__typename).toBe('Endpoint');
    const baseline = await createBaseline(server, { endpoint: 'street', name: 'reference', directory: REFERENCE });
    baselineId = baseline.id;
  }, 120_000);
  afterAll(() => fs.rmSync(ROOT, { recursive: true, force: true }));

  /** predicts `images` in batches of 40 on `street`; the window they fall in */
  async function predict(images: readonly Buffer[]): Promise<{ scored: Scored[]; from: Date; to: Date }> {
    const from = new Date();
    const scored: Scored[] = [];
    for (let i = 0; i < images.length; i += 40) {
      const batch = images.slice(i, i + 40).map((png) => ({ base64: png.toString('base64') }));
      const { predictBatch } = await server.client.data(PREDICT_BATCH, { endpoint: 'street', images: batch });
      expectTypename(predictBatch, 'PredictBatch');
      for (const p of predictBatch.predictions) {
        expectTypename(p, 'Prediction');
        scored.push(p);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { scored, from, to: new Date() };
  }

  async function inputDriftJob(from: Date, to: Date) {
    const { runMonitoringJob: e } = await server.client.data(RUN_JOB, {
      input: {
        endpoint: 'street',
        from: from.toISOString(),
        to: to.toISOString(),
        baseline: 'reference',
        checks: { drift: { enabled: false }, inputDrift: { enabled: true }, minSampleSize: 30 },
      },
    });
    expectTypename(e, 'MonitoringExecution');
    return { ...e, metric: (name: string) => e.metrics.find((m) => m.name === name)?.value };
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  let fresh: Awaited<ReturnType<typeof predict>>;
  let shifted: Awaited<ReturnType<typeof predict>>;
  let noise: Awaited<ReturnType<typeof predict>>;
  let freshBrightness = 0;
  const freshScores = () => fresh.scored.map((s) => s.outlierScore!);

  it('a directory baseline holds an input profile of the reference images', async () => {
    const { baseline } = await server.client.data(PROFILE, { id: baselineId });
    expect(baseline?.inputProfile).toMatchObject({
      itemCount: 240,
      featureSize: 512,
      components: 16,
      referenceSize: 120,
    });
    expect(baseline!.inputProfile!.explainedVariance).toBeGreaterThan(0.5);
  });

  it('a fresh sample of the same distribution is not input drift; its outlier scores are near 1', async () => {
    fresh = await predict(await syntheticSigns(120, 2));
    const scores = fresh.scored.map((s) => s.outlierScore!);
    expect(scores.every((s) => typeof s === 'number' && s > 0)).toBe(true);
    // 1 is the held-out reference's 99th percentile: a fresh sample sits mostly below it
    expect(median(scores)).toBeLessThan(1);
    expect(scores.filter((s) => s > 1).length).toBeLessThan(scores.length * 0.1);

    const run = await inputDriftJob(fresh.from, fresh.to);
    expect(run.recordCount).toBe(120);
    expect(run.violations.filter((v) => v.check === 'INPUT_DRIFT')).toEqual([]);
    expect(run.metric('input_drift_sample_size')).toBe(120);
    expect(run.metric('input_drift_p_value')).toBeGreaterThan(0.05);
    expect(run.metric('image_stats_p_value')).toBeGreaterThan(0.05);
    freshBrightness = run.metric('image_brightness_mean')!;
    expect(freshBrightness).toBeGreaterThan(0.2);
  });

  it('a strongly shifted set (blurred, darkened, noisy) is input drift, in its features and its brightness', async () => {
    shifted = await predict(await syntheticSigns(120, 3, 'degraded'));
    const run = await inputDriftJob(shifted.from, shifted.to);
    expect(run.status).toBe('CompletedWithViolations');
    const drift = run.violations.filter((v) => v.check === 'INPUT_DRIFT');
    expect(drift.map((v) => [v.featureName, v.constraintCheckType])).toEqual([
      ['Features', 'baseline_drift_check'],
      ['Brightness', 'baseline_drift_check'],
    ]);
    expect(drift[0]!.description).toMatch(
      /Input drift: the features' component \d+ of 16 differs from baseline 'reference'/,
    );
    expect(run.metric('input_drift_p_value')).toBeLessThan(1e-6);
    expect(run.metric('image_brightness_mean')).toBeLessThan(0.5 * freshBrightness);
    // each shifted image alone stays within the reference's spread (its backgrounds vary in light too):
    // the shift is in the population, which the test sees and a per-image score barely does
    expect(median(shifted.scored.map((s) => s.outlierScore!))).toBeGreaterThan(median(freshScores()));
  });

  // how far out noise lands is the model's doing: the model bundled before scored it 1.2 and more; the current one,
  // trained with noise-filled occlusions, about 0.9 (fresh images 0.6), so the test asks for the ranking only
  it('images unlike any reference (random noise) score higher than fresh images of the reference', async () => {
    noise = await predict(await noiseImages(30, 4));
    const scores = noise.scored.map((s) => s.outlierScore!);
    expect(median(scores)).toBeGreaterThan(1.3 * median(freshScores()));
    expect(median(scores)).toBeGreaterThan(median(shifted.scored.map((s) => s.outlierScore!)));
  });

  it('captures keep the outlier score and image statistics; minOutlierScore and maxOutlierScore filter them', async () => {
    const all = [...fresh.scored, ...shifted.scored, ...noise.scored];
    // a threshold inside the scores' range, so that the filter has captures on both sides of it
    const threshold = median(all.map((s) => s.outlierScore!));
    const expected = new Set(all.filter((s) => s.outlierScore! >= threshold).map((s) => s.captureId));
    const { captures } = await server.client.data(CAPTURES, {
      endpoint: 'street',
      filter: { minOutlierScore: threshold },
    });
    expectTypename(captures, 'CaptureConnection');
    expect(expected.size).toBeGreaterThanOrEqual(15);
    expect(captures.totalCount).toBe(expected.size);
    expect(new Set(captures.edges.map((e) => e.node.id))).toEqual(expected);
    const byId = new Map(all.map((s) => [s.captureId, s.outlierScore]));
    for (const { node } of captures.edges) expect(node.outlierScore).toBe(byId.get(node.id));
    const stats = await server.client.data(IMAGE_STATS, { endpoint: 'street' });
    expectTypename(stats.captures, 'CaptureConnection');
    for (const { node } of stats.captures.edges) {
      // the newest captures: the noise images (64×64, mid-grey on average, saturated)
      expect(node.imageStats).toMatchObject({ width: 64, height: 64, aspectRatio: 1 });
      expect(node.imageStats!.brightness).toBeCloseTo(0.5, 1);
      expect(node.imageStats!.saturation).toBeGreaterThan(0.35);
    }
    const below = await server.client.data(CAPTURES, {
      endpoint: 'street',
      filter: { maxOutlierScore: threshold, minOutlierScore: 0 },
    });
    expectTypename(below.captures, 'CaptureConnection');
    expect(below.captures.totalCount).toBe(all.filter((s) => s.outlierScore! <= threshold).length);
  });

  it('refuses a bad outlier-score filter with a typed error', async () => {
    for (const [filter, field, message] of [
      [{ minOutlierScore: -1 }, 'filter.minOutlierScore', /between 0 and 1000000/],
      [{ maxOutlierScore: 1e300 }, 'filter.maxOutlierScore', /between 0 and 1000000/],
      [{ minOutlierScore: 3, maxOutlierScore: 2 }, 'filter.minOutlierScore', /above maxOutlierScore/],
    ] as const) {
      const { captures } = await server.client.data(CAPTURES, { endpoint: 'street', filter });
      expectTypename(captures, 'ValidationError');
      expect(captures.field).toBe(field);
      expect(captures.message).toMatch(message);
    }
  });

  it('inputDrift needs a baseline with an input profile: one from captures without features is refused', async () => {
    const endpointId = await createEndpoint(server, 'legacy');
    const now = Date.now();
    await insertCaptures(
      server,
      endpointId,
      spread(40, now - 60_000, now - 1000).map((at) => ({ at, classId: 1, confidence: 0.9 })),
    );
    const legacy = await createBaseline(server, {
      endpoint: 'legacy',
      name: 'old',
      from: new Date(now - 120_000).toISOString(),
    });
    const { baseline } = await server.client.data(PROFILE, { id: legacy.id });
    expect(baseline?.inputProfile).toBeNull();
    const { createMonitoringSchedule: refused } = await server.client.data(
      graphql(
        `mutation InputDriftWithoutProfile($input: CreateMonitoringScheduleInput!) {
          createMonitoringSchedule(input: $input) { __typename ...MonitorErrorFields }
        }`,
        [MONITOR_ERROR],
      ),
      {
        input: {
          name: 'legacy-s',
          endpoint: 'legacy',
          cron: '0 0 1 1 *',
          baseline: 'old',
          checks: { inputDrift: { enabled: true } },
        },
      },
    );
    expectTypename(refused, 'ValidationError');
    expect(refused).toMatchObject({ field: 'checks.inputDrift.enabled' });
    expect(refused.message).toMatch(/baseline 'old' has no input profile/);
    // without a baseline at all
    const { createMonitoringSchedule: none } = await server.client.data(
      graphql(
        `mutation InputDriftWithoutBaseline($input: CreateMonitoringScheduleInput!) {
          createMonitoringSchedule(input: $input) { __typename ...MonitorErrorFields }
        }`,
        [MONITOR_ERROR],
      ),
      { input: { name: 'legacy-n', endpoint: 'legacy', cron: '0 0 1 1 *', checks: { inputDrift: { enabled: true } } } },
    );
    expectTypename(none, 'ValidationError');
    expect(none).toMatchObject({ field: 'checks.inputDrift.enabled' });
    // the schedule of the street endpoint takes it, and shows its configuration
    const accepted = await createSchedule(server, {
      name: 'street-s',
      endpoint: 'street',
      baseline: 'reference',
      checks: { inputDrift: { enabled: true, pValue: 0.01, maxSampleSize: 500 } },
    });
    expect(accepted.name).toBe('street-s');
  });
});
