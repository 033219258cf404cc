/**
 * Lists load their relations through the request's DataLoaders, so a page takes the same number of SQL
 * queries whatever its length: a page of captures with their debugger steps (tensors, the step's
 * capture), a schedule's executions with their violations and metrics, and the schedules with their
 * baselines. The server counts the statements Prisma sends (config `onQuery`) while one request runs.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEndpoint, createSchedule, insertCaptures, normalClasses, run, spread } from '../helpers/monitor.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

/** the most statements each request may take: what it takes now on SQLite and PostgreSQL alike */
const MAX_CAPTURE_PAGE_QUERIES = 6;
const MAX_EXECUTION_LIST_QUERIES = 7;
const MAX_SCHEDULE_LIST_QUERIES = 4;

/** `n` different images: the PNG and JPEG fixtures with their hue and brightness turned step by step */
async function distinctImages(n: number): Promise<string[]> {
  const bases = ['stop_like_octagon.png', 'warning_triangle.png', 'blue_arrow_circle.jpg', 'noise.png', 'gradient_128.png'].map(fixture);
  return Promise.all(
    Array.from({ length: n }, async (_, i) =>
      (await sharp(bases[i % bases.length]!).removeAlpha().modulate({ hue: (i * 29) % 360, brightness: 0.7 + (i % 7) * 0.1 }).png().toBuffer()).toString('base64'),
    ),
  );
}

const CAPTURE_PAGE = `query($first: Int!) {
  captures(endpoint: "hooked", first: $first) {
    __typename
    ... on CaptureConnection { edges { node { id debugStep { step tensors { name storedBytes } storedBytes capture { id } } } } }
  }
}`;

const EXECUTIONS = `query($first: Int!) {
  monitoringExecutions(schedule: "watch-0", first: $first) {
    __typename
    ... on MonitoringExecutionList { executions { id violations { description } metrics { name value } constraintViolations } }
  }
}`;

const SCHEDULES = `{ monitoringSchedules { __typename ... on MonitoringScheduleList { schedules { name baseline { id } } } } }`;

describe('lists take a constant number of SQL queries', () => {
  let sql: string[] | null = null;
  const server = useTestServer({
    // no scheduler tick may query while a request is counted
    env: { SCHEDULER_INTERVAL_MS: '3600000' },
    config: { onQuery: (statement) => sql?.push(statement) },
  });

  /** the request's data and the statements the server sent while it ran */
  async function counted(document: string, variables?: Record<string, unknown>) {
    sql = [];
    try {
      const data = await server.client.data(document, variables);
      return { data, sql };
    } finally {
      sql = null;
    }
  }

  describe('a page of captures with their debugger steps', () => {
    beforeAll(async () => {
      await server.client.data(`mutation { createEndpoint(input: {
        name: "hooked", dataCapture: { enabled: true, samplingPercentage: 100 }, debugHook: { enabled: true, collections: ["fullgrad"] } }) { __typename } }`);
      const images = (await distinctImages(50)).map((base64) => ({ base64 }));
      const { predictBatch } = await server.client.data(
        `mutation($images: [ImageInput!]!) { predictBatch(endpoint: "hooked", images: $images) {
          __typename ... on PredictBatch { predictions { __typename ... on Prediction { captureId debugStep } } } ... on VigilError { message } } }`,
        { images },
      );
      expect(predictBatch.__typename, JSON.stringify(predictBatch)).toBe('PredictBatch');
      const predictions = predictBatch.predictions as { __typename: string; captureId: string | null; debugStep: number | null }[];
      expect(predictions.every((p) => p.__typename === 'Prediction' && p.captureId && p.debugStep !== null)).toBe(true);
    }, 300_000);

    it('loads 50 captures, their steps, tensors and the steps\' captures in as many queries as 5', async () => {
      const fifty = await counted(CAPTURE_PAGE, { first: 50 });
      const edges = fifty.data.captures.edges as { node: { id: string; debugStep: { tensors: unknown[]; storedBytes: number; capture: { id: string } } } }[];
      expect(edges).toHaveLength(50);
      for (const { node } of edges) {
        expect(node.debugStep.tensors.length).toBeGreaterThan(0);
        expect(node.debugStep.storedBytes).toBeGreaterThan(0);
        expect(node.debugStep.capture.id).toBe(node.id);
      }
      const five = await counted(CAPTURE_PAGE, { first: 5 });
      expect(five.data.captures.edges).toHaveLength(5);
      console.log(`captures with debug steps: ${fifty.sql.length} queries for 50, ${five.sql.length} for 5`);
      expect(fifty.sql.length, fifty.sql.join('\n')).toBeLessThanOrEqual(MAX_CAPTURE_PAGE_QUERIES);
      expect(five.sql.length, five.sql.join('\n')).toBe(fifty.sql.length);
    });
  });

  describe('a list of executions with violations and metrics, and schedules with baselines', () => {
    beforeAll(async () => {
      const endpointId = await createEndpoint(server, 'watched');
      const start = Date.now() - 10 * 60_000;
      const normal = normalClasses(200);
      await insertCaptures(server, endpointId, spread(200, start, start + 60_000).map((at, i) => ({ ...normal[i]!, at })));
      for (const name of ['base-a', 'base-b']) {
        const { createBaseline } = await server.client.data(
          `mutation($name: String!, $to: DateTime!) { createBaseline(input: { endpoint: "watched", name: $name, to: $to }) { __typename ... on VigilError { message } } }`,
          { name, to: new Date(start + 60_000).toISOString() },
        );
        expect(createBaseline.__typename, JSON.stringify(createBaseline)).toBe('Baseline');
      }
      for (let i = 0; i < 3; i++) {
        await createSchedule(server, { name: `watch-${i}`, endpoint: 'watched', baseline: i % 2 ? 'base-b' : 'base-a', checks: { minSampleSize: 1 } });
      }
      // the normal window first; then 20 windows of a few Stop signs only, each with a class-share violation
      await run(server, 'watch-0');
      for (let i = 0; i < 20; i++) {
        await insertCaptures(server, endpointId, Array.from({ length: 5 }, () => ({ classId: 14, confidence: 0.97, at: Date.now() })));
        await new Promise((resolve) => setTimeout(resolve, 2));
        const execution = await run(server, 'watch-0');
        expect(execution.violations.length).toBeGreaterThan(0);
      }
    }, 300_000);

    it('lists 20 executions with their violations and metrics in as many queries as 5', async () => {
      const twenty = await counted(EXECUTIONS, { first: 20 });
      const executions = twenty.data.monitoringExecutions.executions as { violations: unknown[]; metrics: unknown[]; constraintViolations: { violations: unknown[] } }[];
      expect(executions).toHaveLength(20);
      for (const e of executions) {
        expect(e.violations.length).toBeGreaterThan(0);
        expect(e.metrics.length).toBeGreaterThan(0);
        expect(e.constraintViolations.violations).toHaveLength(e.violations.length);
      }
      const five = await counted(EXECUTIONS, { first: 5 });
      expect(five.data.monitoringExecutions.executions).toHaveLength(5);
      console.log(`executions with violations and metrics: ${twenty.sql.length} queries for 20, ${five.sql.length} for 5`);
      expect(twenty.sql.length, twenty.sql.join('\n')).toBeLessThanOrEqual(MAX_EXECUTION_LIST_QUERIES);
      expect(five.sql.length, five.sql.join('\n')).toBe(twenty.sql.length);
    });

    it('lists schedules with their baselines in the same number of queries for 3 schedules as for 8', async () => {
      const three = await counted(SCHEDULES);
      expect(three.data.monitoringSchedules.schedules).toHaveLength(3);
      for (let i = 3; i < 8; i++) {
        await createSchedule(server, { name: `watch-${i}`, endpoint: 'watched', baseline: i % 2 ? 'base-b' : 'base-a' });
      }
      const eight = await counted(SCHEDULES);
      const schedules = eight.data.monitoringSchedules.schedules as { baseline: { id: string } | null }[];
      expect(schedules).toHaveLength(8);
      expect(new Set(schedules.map((s) => s.baseline?.id)).size).toBe(2);
      console.log(`schedules with baselines: ${three.sql.length} queries for 3, ${eight.sql.length} for 8`);
      expect(eight.sql.length, eight.sql.join('\n')).toBeLessThanOrEqual(MAX_SCHEDULE_LIST_QUERIES);
      expect(eight.sql.length, eight.sql.join('\n')).toBe(three.sql.length);
    });
  });
});
