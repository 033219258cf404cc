/**
 * Ground truth and model quality through the real server: labels sent after the predictions (by
 * capture id over GraphQL, by event id as Model Monitor's JSON Lines) turn a window's accuracy into a
 * metric, a series point, a /metrics gauge and a LessThanThreshold violation, while a window with good
 * labels passes; the confusion matrix as JSON and as a PNG of the stated size; the tolerance against a
 * baseline's accuracy; the JSON Lines route line by line (last label wins, idempotent, per-line errors).
 */
import fs from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { CONFUSION_CHART_HEIGHT, CONFUSION_CHART_WIDTH } from '../../src/monitor/quality/confusion-chart.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { FIXTURE_DIR, fixture } from '../helpers/images.ts';
import { createBaseline, createSchedule, insertCaptures, spread } from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';
import { sleep } from '../helpers/wait.ts';

const CREATE_ENDPOINT = graphql(`
  mutation CreateCapturingEndpoint($name: String!) {
    createEndpoint(input: { name: $name, dataCapture: { enabled: true, samplingPercentage: 100 } }) {
      __typename
      ... on Endpoint { id }
    }
  }
`);
const PREDICT_BATCH = graphql(`
  mutation PredictForLabels($endpoint: String!, $images: [ImageInput!]!) {
    predictBatch(endpoint: $endpoint, images: $images) {
      __typename
      ... on PredictBatch { predictions { __typename ... on Prediction { captureId eventId predictedClass label } } }
    }
  }
`);
const CAPTURE = graphql(`
  query CaptureWithTruth($id: ID!) {
    capture(id: $id) { id eventId groundTruth { captureId eventId classId label receivedAt } }
  }
`);
const PUT = graphql(`
  mutation PutGroundTruth($input: [GroundTruthInput!]!) {
    putGroundTruth(input: $input) {
      __typename
      ... on GroundTruthBatch {
        stored
        failed
        items {
          __typename
          ... on GroundTruth { captureId classId label receivedAt }
          ... on VigilError { code message }
          ... on ValidationError { field }
        }
      }
      ... on VigilError { code message }
    }
  }
`);
const RUN = graphql(`
  mutation RunQuality($name: String!) {
    runMonitoringSchedule(name: $name) {
      __typename
      ... on MonitoringExecution {
        id status message windowStart windowEnd
        violations { check featureName metricName constraintCheckType description }
        constraintViolations
        metrics { name value }
        modelQuality {
          windowStart windowEnd labelsReceivedBy groundTruthDelaySeconds labelledCount accuracy macroF1 baselineAccuracy
          classes { classId label support predicted precision recall f1 }
          confusionMatrix confusionMatrixUrl confusionMatrixChartUrl
        }
      }
      ... on VigilError { code message }
    }
  }
`);
const SERIES = graphql(`
  query QualitySeries($schedule: String!, $name: String!) {
    metrics(schedule: $schedule, name: $name) { __typename ... on MonitoringMetricSeries { points { value } } }
  }
`);

/** every image of the fixtures folder (8) */
const IMAGES = fs
  .readdirSync(FIXTURE_DIR)
  .filter((name) => !name.endsWith('.json') && !name.endsWith('.md'))
  .sort()
  .map((name) => ({ base64: fixture(name).toString('base64') }));

/** a Model Monitor ground-truth line */
const line = (eventId: string, data: string, encoding = 'CSV') =>
  JSON.stringify({ groundTruthData: { data, encoding }, eventMetadata: { eventId }, eventVersion: '0' });

describe('ground truth and model quality', () => {
  const server = useTestServer({ env: { SCHEDULER_INTERVAL_MS: '3600000' } });

  async function postLines(body: string, contentType = 'application/x-ndjson') {
    const response = await fetch(`${server.url}/ground-truth`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** predicts every image once; the captures with their event ids, and when the last was made */
  async function predict(endpoint: string) {
    const { predictBatch } = await server.client.data(PREDICT_BATCH, { endpoint, images: IMAGES });
    expectTypename(predictBatch, 'PredictBatch');
    const lastAt = Date.now();
    const captures = [];
    for (const p of predictBatch.predictions) {
      expectTypename(p, 'Prediction');
      const { capture } = await server.client.data(CAPTURE, { id: p.captureId! });
      // the answer names its capture both ways
      expect(p.eventId).toBe(capture!.eventId);
      captures.push({ id: p.captureId!, eventId: p.eventId!, predicted: p.predictedClass, label: p.label });
    }
    return { captures, lastAt };
  }

  async function run(name: string) {
    const { runMonitoringSchedule: e } = await server.client.data(RUN, { name });
    expectTypename(e, 'MonitoringExecution');
    return e;
  }
  const metric = (e: { metrics: { name: string; value: number }[] }, name: string) =>
    e.metrics.find((m) => m.name === name)?.value;

  describe('labels that arrive after the predictions', () => {
    const DELAY_S = 4;
    beforeAll(async () => {
      expectTypename((await server.client.data(CREATE_ENDPOINT, { name: 'quality' })).createEndpoint, 'Endpoint');
    });

    it("turn a window's accuracy into a metric and a violation, and a window with good labels passes", async () => {
      const first = await predict('quality');
      const schedule = await createSchedule(server, {
        name: 'quality-s',
        endpoint: 'quality',
        checks: {
          classShare: { enabled: false },
          lowConfidence: { enabled: false },
          minSampleSize: 4,
          modelQuality: {
            enabled: true,
            minAccuracy: 0.8,
            minRecall: [{ classId: (first.captures[4]!.predicted + 1) % 43, min: 0.9 }],
            groundTruthDelaySeconds: DELAY_S,
          },
        },
      });
      expect(schedule.__typename).toBe('MonitoringSchedule');

      // before any label: measured, not made up
      const before = await run('quality-s');
      expect(before.status).toBe('Completed');
      expect(before.modelQuality).toMatchObject({ labelledCount: 0, accuracy: null, macroF1: null, classes: [] });
      expect(metric(before, 'ground_truth_count')).toBe(0);
      expect(metric(before, 'accuracy')).toBeUndefined();
      expect(before.message).toMatch(/insufficient ground truth: 0 labelled captures/);
      // the window evaluated is the execution's, shifted back by the delay
      expect(Date.parse(before.modelQuality!.windowEnd)).toBe(Date.parse(before.windowEnd) - DELAY_S * 1000);

      // the labels arrive: half right by capture id (one by class name), half wrong by event id
      const right = first.captures.slice(0, 4);
      const wrong = first.captures.slice(4);
      const { putGroundTruth } = await server.client.data(PUT, {
        input: [
          ...right.map((c, i) => ({ capture: { captureId: c.id }, label: i === 0 ? c.label : String(c.predicted) })),
          { capture: { captureId: '00000000-0000-0000-0000-000000000000' }, label: '1' },
          { capture: { captureId: right[0]!.id }, label: 'no such class' },
        ],
      });
      expectTypename(putGroundTruth, 'GroundTruthBatch');
      expect(putGroundTruth).toMatchObject({ stored: 4, failed: 2 });
      expect(putGroundTruth.items.map((i) => i.__typename)).toEqual([
        'GroundTruth',
        'GroundTruth',
        'GroundTruth',
        'GroundTruth',
        'NotFoundError',
        'ValidationError',
      ]);
      expect(putGroundTruth.items[5]).toMatchObject({ field: 'input.5.label' });
      const posted = await postLines(
        `${wrong.map((c) => line(c.eventId, String((c.predicted + 1) % 43))).join('\n')}\n`,
      );
      expect(posted).toEqual({
        status: 200,
        body: { lines: 4, stored: 4, failed: 0, failures: [], failuresOmitted: 0 },
      });

      const { capture } = await server.client.data(CAPTURE, { id: wrong[0]!.id });
      expect(capture!.groundTruth).toMatchObject({
        captureId: wrong[0]!.id,
        eventId: wrong[0]!.eventId,
        classId: (wrong[0]!.predicted + 1) % 43,
      });

      // once the delay has passed since the predictions, the next execution judges them
      await sleep(Math.max(0, first.lastAt + DELAY_S * 1000 + 150 - Date.now()));
      const judged = await run('quality-s');
      const expected = expectedQuality([
        ...right.map((c) => ({ predicted: c.predicted, actual: c.predicted })),
        ...wrong.map((c) => ({ predicted: c.predicted, actual: (c.predicted + 1) % 43 })),
      ]);
      expect(judged.modelQuality).toMatchObject({ labelledCount: 8, accuracy: 0.5, groundTruthDelaySeconds: DELAY_S });
      expect(judged.modelQuality!.macroF1).toBeCloseTo(expected.macroF1, 10);
      expect(metric(judged, 'accuracy')).toBe(0.5);
      expect(metric(judged, 'ground_truth_count')).toBe(8);
      expect(metric(judged, 'macro_f1')).toBeCloseTo(expected.macroF1, 10);
      for (const [classId, recall] of expected.recall) expect(metric(judged, `recall_${classId}`)).toBe(recall);
      for (const [classId, precision] of expected.precision)
        expect(metric(judged, `precision_${classId}`)).toBe(precision);
      expect(judged.status).toBe('CompletedWithViolations');
      expect(judged.message).toBe("CompletedWithViolations: Metric accuracy with 0.5 was LessThanThreshold '0.8'");
      const recallClass = (first.captures[4]!.predicted + 1) % 43;
      const recall = Math.round(expected.recall.get(recallClass)! * 10_000) / 10_000;
      expect(judged.violations).toEqual([
        {
          check: 'MODEL_QUALITY',
          featureName: 'accuracy',
          metricName: 'accuracy',
          constraintCheckType: 'LessThanThreshold',
          description: "Metric accuracy with 0.5 was LessThanThreshold '0.8'",
        },
        {
          check: 'MODEL_QUALITY',
          featureName: `recall_${recallClass}`,
          metricName: `recall_${recallClass}`,
          constraintCheckType: 'LessThanThreshold',
          description: expect.stringContaining(
            `Metric recall_${recallClass} with ${recall} was LessThanThreshold '0.9'`,
          ),
        },
      ]);
      expect(judged.constraintViolations).toMatchObject({
        violations: [
          {
            check: 'MODEL_QUALITY',
            metric_name: 'accuracy',
            constraint_check_type: 'LessThanThreshold',
            description: "Metric accuracy with 0.5 was LessThanThreshold '0.8'",
          },
          { check: 'MODEL_QUALITY', metric_name: `recall_${recallClass}` },
        ],
      });
      expect(judged.modelQuality!.confusionMatrix).toEqual(expected.matrix);

      // the confusion matrix, as JSON and as a picture, at the URLs GraphQL links
      const quality = judged.modelQuality!;
      expect(quality.confusionMatrixUrl).toBe(`/executions/${judged.id}/confusion_matrix.json`);
      const file = await fetch(`${server.url}${quality.confusionMatrixUrl}`);
      expect(file.status).toBe(200);
      expect(await file.json()).toMatchObject({
        execution: judged.id,
        schedule: 'quality-s',
        accuracy: 0.5,
        labelledCount: 8,
        confusionMatrix: expected.matrix,
      });
      const png = await fetch(`${server.url}${quality.confusionMatrixChartUrl}`);
      expect(png.headers.get('content-type')).toBe('image/png');
      const image = sharp(Buffer.from(await png.arrayBuffer()));
      const meta = await image.metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', CONFUSION_CHART_WIDTH, CONFUSION_CHART_HEIGHT]);
      const pixels = await image.raw().toBuffer();
      expect(new Set(pixels).size, 'the picture is not blank').toBeGreaterThan(16);

      // as a series and as /metrics gauges
      const { metrics: series } = await server.client.data(SERIES, { schedule: 'quality-s', name: 'accuracy' });
      expectTypename(series, 'MonitoringMetricSeries');
      expect(series.points.map((p) => p.value)).toEqual([0.5]);
      const scraped = await (await fetch(`${server.url}/metrics`)).text();
      expect(scraped).toMatch(/^vigil_monitor_accuracy\{schedule="quality-s",endpoint="quality"\} 0\.5$/m);
      expect(scraped).toContain(`vigil_monitor_recall{schedule="quality-s",endpoint="quality",class="${recallClass}"`);

      // a new window whose labels are all right passes
      const second = await predict('quality');
      const good = await postLines(second.captures.map((c) => line(c.eventId, String(c.predicted))).join('\r\n'));
      expect(good.body).toMatchObject({ lines: 8, stored: 8, failed: 0 });
      await sleep(Math.max(0, second.lastAt + DELAY_S * 1000 + 150 - Date.now()));
      const passed = await run('quality-s');
      expect(passed.modelQuality).toMatchObject({ labelledCount: 8, accuracy: 1, macroF1: 1 });
      expect(passed.status).toBe('Completed');
      expect(passed.message).toBe('Completed: no violations');
      expect(metric(passed, 'accuracy')).toBe(1);
      const { metrics: after } = await server.client.data(SERIES, { schedule: 'quality-s', name: 'accuracy' });
      expectTypename(after, 'MonitoringMetricSeries');
      expect(after.points.map((p) => p.value)).toEqual([0.5, 1]);
    });
  });

  it("a tolerance against the baseline's accuracy, which a baseline takes from its window's labels", async () => {
    const { createEndpoint } = await server.client.data(CREATE_ENDPOINT, { name: 'tolerance' });
    expectTypename(createEndpoint, 'Endpoint');
    const start = Date.now() - 60_000;
    const times = spread(20, start, start + 20_000);
    await insertCaptures(
      server,
      createEndpoint.id,
      times.map((at, i) => ({ classId: i % 4, at })),
    );
    const rows = await server.app.database.prisma.capture.findMany({
      where: { endpointId: createEndpoint.id },
      orderBy: { inferenceTime: 'asc' },
    });
    // the first ten all right: the baseline's window
    const labelled = await postLines(
      rows
        .slice(0, 10)
        .map((r) => line(r.eventId, String(r.predictedClass), 'CSV'))
        .join('\n'),
    );
    expect(labelled.body).toMatchObject({ stored: 10 });
    const unlabelled = await createBaseline(server, {
      endpoint: 'tolerance',
      name: 'no-labels',
      from: rows[10]!.inferenceTime.toISOString(),
      to: new Date(rows[19]!.inferenceTime.getTime() + 1).toISOString(),
    });
    expect(unlabelled.statistics).not.toHaveProperty('multiclass_classification_metrics');
    const baseline = await createBaseline(server, {
      endpoint: 'tolerance',
      name: 'labelled',
      to: new Date(rows[9]!.inferenceTime.getTime() + 1).toISOString(),
    });
    const { baseline: read } = await server.client.data(
      graphql(`query BaselineAccuracy($id: ID!) { baseline(id: $id) { accuracy } }`),
      { id: baseline.id },
    );
    expect(read?.accuracy).toBe(1);
    expect(baseline.statistics).toMatchObject({
      multiclass_classification_metrics: { labelled_count: 10, accuracy: { value: 1, standard_deviation: 0 } },
    });

    // a baseline without an accuracy cannot anchor a tolerance
    const { createMonitoringSchedule: refused } = await server.client.data(
      graphql(`
        mutation ToleranceWithoutAccuracy($input: CreateMonitoringScheduleInput!) {
          createMonitoringSchedule(input: $input) { __typename ... on ValidationError { field message } }
        }
      `),
      {
        input: {
          name: 'tolerance-refused',
          endpoint: 'tolerance',
          cron: '0 0 1 1 *',
          baseline: unlabelled.name,
          checks: { modelQuality: { enabled: true, baselineTolerance: 0.1 } },
        },
      },
    );
    expectTypename(refused, 'ValidationError');
    expect(refused.field).toBe('checks.modelQuality.baselineTolerance');

    await createSchedule(server, {
      name: 'tolerance-s',
      endpoint: 'tolerance',
      baseline: 'labelled',
      checks: {
        drift: { enabled: false },
        classShare: { enabled: false },
        minSampleSize: 5,
        modelQuality: { enabled: true, baselineTolerance: 0.1 },
      },
    });
    // the other ten: three wrong (JSON-encoded labels this time)
    const late = rows.slice(10);
    const sent = await postLines(
      late
        .map((r, i) => line(r.eventId, JSON.stringify(i < 3 ? (r.predictedClass! + 1) % 43 : r.predictedClass), 'JSON'))
        .join('\n'),
    );
    expect(sent.body).toMatchObject({ stored: 10, failed: 0 });
    const e = await run('tolerance-s');
    expect(e.modelQuality).toMatchObject({ labelledCount: 20, accuracy: 0.85, baselineAccuracy: 1 });
    expect(e.violations).toEqual([
      {
        check: 'MODEL_QUALITY',
        featureName: 'accuracy',
        metricName: 'accuracy',
        constraintCheckType: 'LessThanThreshold',
        description:
          "Metric accuracy with 0.85 was LessThanThreshold '0.9' (baseline 'labelled' accuracy 1 − tolerance 0.1)",
      },
    ]);
  });

  it('POST /ground-truth: line by line, the last label wins, idempotent, and typed refusals', async () => {
    const { createEndpoint } = await server.client.data(CREATE_ENDPOINT, { name: 'lines' });
    expectTypename(createEndpoint, 'Endpoint');
    await insertCaptures(server, createEndpoint.id, [
      { classId: 3, at: Date.now() - 1000 },
      { classId: 5, at: Date.now() - 500 },
    ]);
    const [a, b] = await server.app.database.prisma.capture.findMany({
      where: { endpointId: createEndpoint.id },
      orderBy: { inferenceTime: 'asc' },
    });
    const body = [
      line(a!.eventId, '7'),
      '',
      'not json',
      line('no-such-event', '1'),
      line(b!.eventId, '43'),
      JSON.stringify({ groundTruthData: { data: '1', encoding: 'BASE64' }, eventMetadata: { eventId: a!.eventId } }),
      JSON.stringify({ groundTruthData: { data: '1' } }),
      `{"groundTruthData":{"data":"1","encoding":"CSV"},"eventMetadata":{"eventId":"${'x'.repeat(5000)}"}}`,
      line(a!.eventId, '3'),
      line(b!.eventId, '5'),
    ].join('\n');
    const first = await postLines(body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      lines: 9,
      stored: 3,
      failed: 6,
      failures: [
        { line: 3, code: 'VALIDATION', message: 'the line is not JSON' },
        { line: 4, code: 'NOT_FOUND' },
        { line: 5, code: 'VALIDATION' },
        { line: 6, code: 'VALIDATION', message: "groundTruthData.encoding must be 'CSV' or 'JSON'" },
        { line: 7, code: 'VALIDATION', message: 'eventMetadata.eventId must be a string' },
        { line: 8, code: 'VALIDATION', message: 'the line is longer than 4096 bytes' },
      ],
    });
    const truth = async (id: string) => (await server.client.data(CAPTURE, { id })).capture!.groundTruth;
    // a's later line wins
    const labelled = await truth(a!.id);
    expect(labelled).toMatchObject({ classId: 3 });
    // the same label again: nothing changes, not even when it was received
    await sleep(20);
    expect((await postLines(line(a!.eventId, '3'))).body).toMatchObject({ stored: 1 });
    expect(await truth(a!.id)).toEqual(labelled);
    // another label: it wins, received now
    expect((await postLines(line(a!.eventId, '4'))).body).toMatchObject({ stored: 1 });
    const changed = await truth(a!.id);
    expect(changed).toMatchObject({ classId: 4 });
    expect(Date.parse(changed!.receivedAt)).toBeGreaterThan(Date.parse(labelled!.receivedAt));
    expect(await server.app.database.prisma.groundTruth.count({ where: { endpointId: createEndpoint.id } })).toBe(2);

    // refused whole: not JSON Lines, too many lines
    expect(await postLines(line(a!.eventId, '1'), 'text/plain')).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION', field: 'content-type' },
    });
    const tooMany = await postLines('\n'.repeat(100_001));
    expect(tooMany).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE', limit: 100_000 } });
    expect(await truth(a!.id)).toEqual(changed);

    // a label goes with its capture (retention deletes captures with plain DELETEs)
    const prisma = server.app.database.prisma;
    await prisma.$executeRaw`DELETE FROM "Capture" WHERE "id" = ${a!.id}`;
    expect(await prisma.groundTruth.count({ where: { endpointId: createEndpoint.id } })).toBe(1);
  });
});

/** accuracy, macro F1, per-class precision and recall and the confusion matrix of (predicted, actual) pairs */
function expectedQuality(pairs: { predicted: number; actual: number }[]) {
  const classes = [...new Set(pairs.flatMap((p) => [p.predicted, p.actual]))];
  const precision = new Map<number, number>();
  const recall = new Map<number, number>();
  let f1Sum = 0;
  const matrix: Record<string, Record<string, number>> = {};
  for (const { predicted, actual } of pairs) {
    const row = (matrix[String(actual)] ??= {});
    row[String(predicted)] = (row[String(predicted)] ?? 0) + 1;
  }
  for (const k of classes) {
    const tp = pairs.filter((p) => p.predicted === k && p.actual === k).length;
    const predictedK = pairs.filter((p) => p.predicted === k).length;
    const actualK = pairs.filter((p) => p.actual === k).length;
    const pr = predictedK ? tp / predictedK : null;
    const rc = actualK ? tp / actualK : null;
    if (pr !== null) precision.set(k, pr);
    if (rc !== null) recall.set(k, rc);
    f1Sum += pr && rc ? (2 * pr * rc) / (pr + rc) : 0;
  }
  return { precision, recall, macroF1: f1Sum / classes.length, matrix };
}
