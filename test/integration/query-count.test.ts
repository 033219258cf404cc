/**
 * Lists load their relations through the request's DataLoaders, so a page takes the same number of SQL
 * queries whatever its length: a page of captures with their debugger steps (tensors, the step's
 * capture), a schedule's executions with their violations and metrics, and the schedules with their
 * baselines. The server counts the statements Prisma sends (config `onQuery`) while one request runs.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import {
  createBaseline,
  createEndpoint,
  createSchedule,
  insertCaptures,
  normalClasses,
  run,
  spread,
} from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';

/** the most statements each request may take: what it takes now on SQLite and PostgreSQL alike */
const MAX_CAPTURE_PAGE_QUERIES = 6;
const MAX_EXECUTION_LIST_QUERIES = 7;
const MAX_SCHEDULE_LIST_QUERIES = 4;

/** `n` different images: the PNG and JPEG fixtures with their hue and brightness turned step by step */
async function distinctImages(n: number): Promise<string[]> {
  const bases = [
    'stop_like_octagon.png',
    'warning_triangle.png',
    'blue_arrow_circle.jpg',
    'noise.png',
    'gradient_128.png',
  ].map(fixture);
  return Promise.all(
    Array.from({ length: n }, async (_, i) =>
      (
        await sharp(bases[i % bases.length]!)
          .removeAlpha()
          .modulate({ hue: (i * 29) % 360, brightness: 0.7 + (i % 7) * 0.1 })
          .png()
          .toBuffer()
      ).toString('base64'),
    ),
  );
}

const CAPTURE_PAGE = graphql(`
  query CapturesWithSteps($endpoint: String!, $first: Int!) {
    captures(endpoint: $endpoint, first: $first) {
      __typename
      ... on CaptureConnection {
        edges { node { id debugStep { step tensors { name storedBytes } storedBytes capture { id } } } }
      }
    }
  }
`);

const EXECUTIONS = graphql(`
  query ExecutionsWithViolations($schedule: String!, $first: Int!) {
    monitoringExecutions(schedule: $schedule, first: $first) {
      __typename
      ... on MonitoringExecutionList {
        executions { id violations { description } metrics { name value } constraintViolations }
      }
    }
  }
`);

const SCHEDULES = graphql(`
  query SchedulesWithBaselines {
    monitoringSchedules { __typename ... on MonitoringScheduleList { schedules { name baseline { id } } } }
  }
`);

const CREATE_HOOKED = graphql(`
  mutation CreateHookedEndpoint($input: CreateEndpointInput!) { createEndpoint(input: $input) { __typename } }
`);

const PREDICT_BATCH = graphql(`
  mutation PredictBatch($endpoint: String!, $images: [ImageInput!]!) {
    predictBatch(endpoint: $endpoint, images: $images) {
      __typename
      ... on PredictBatch { predictions { __typename ... on Prediction { captureId debugStep } } }
      ... on VigilError { message }
    }
  }
`);

/** `constraintViolations` (JSON) as a client reads it: the part the test asserts */
interface ConstraintViolations {
  violations: unknown[];
}

describe('lists take a constant number of SQL queries', () => {
  let sql: string[] | null = null;
  const server = useTestServer({
    // no background statement may be counted with a request: the scheduler and the alert delivery
    // worker wait, and the readiness probe's ping (every 2 s) is left out
    env: { SCHEDULER_INTERVAL_MS: '3600000', ALERT_POLL_INTERVAL_MS: '60000' },
    config: { onQuery: (statement) => statement.trim() !== 'SELECT 1' && sql?.push(statement) },
  });

  /** the request's data and the statements the server sent while it ran */
  async function counted<T>(request: () => Promise<T>): Promise<{ data: T; sql: string[] }> {
    const statements: string[] = [];
    sql = statements;
    try {
      const data = await request();
      return { data, sql: statements };
    } finally {
      sql = null;
    }
  }

  describe('a page of captures with their debugger steps', () => {
    beforeAll(async () => {
      await server.client.data(CREATE_HOOKED, {
        input: {
          name: 'hooked',
          dataCapture: { enabled: true, samplingPercentage: 100 },
          debugHook: { enabled: true, collections: ['fullgrad'] },
        },
      });
      const images = (await distinctImages(50)).map((base64) => ({ base64 }));
      const { predictBatch } = await server.client.data(PREDICT_BATCH, { endpoint: 'hooked', images });
      expect(predictBatch.__typename, JSON.stringify(predictBatch)).toBe('PredictBatch');
      expectTypename(predictBatch, 'PredictBatch');
      const { predictions } = predictBatch;
      expect(predictions.every((p) => p.__typename === 'Prediction' && p.captureId && p.debugStep !== null)).toBe(true);
    }, 300_000);

    it("loads 50 captures, their steps, tensors and the steps' captures in as many queries as 5", async () => {
      const page = (first: number) =>
        counted(async () => {
          const { captures } = await server.client.data(CAPTURE_PAGE, { endpoint: 'hooked', first });
          expectTypename(captures, 'CaptureConnection');
          return captures.edges;
        });
      const fifty = await page(50);
      expect(fifty.data).toHaveLength(50);
      for (const { node } of fifty.data) {
        expect(node.debugStep?.tensors.length).toBeGreaterThan(0);
        expect(node.debugStep?.storedBytes).toBeGreaterThan(0);
        expect(node.debugStep?.capture?.id).toBe(node.id);
      }
      const five = await page(5);
      expect(five.data).toHaveLength(5);
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
      await insertCaptures(
        server,
        endpointId,
        spread(200, start, start + 60_000).map((at, i) => ({ ...normal[i]!, at })),
      );
      for (const name of ['base-a', 'base-b']) {
        await createBaseline(server, { endpoint: 'watched', name, to: new Date(start + 60_000).toISOString() });
      }
      for (let i = 0; i < 3; i++) {
        await createSchedule(server, {
          name: `watch-${i}`,
          endpoint: 'watched',
          baseline: i % 2 ? 'base-b' : 'base-a',
          checks: { minSampleSize: 1 },
        });
      }
      // the normal window first; then 20 windows of a few Stop signs only, each with a class-share violation
      await run(server, 'watch-0');
      for (let i = 0; i < 20; i++) {
        await insertCaptures(
          server,
          endpointId,
          Array.from({ length: 5 }, () => ({ classId: 14, confidence: 0.97, at: Date.now() })),
        );
        await new Promise((resolve) => setTimeout(resolve, 2));
        const execution = await run(server, 'watch-0');
        expect(execution.violations.length).toBeGreaterThan(0);
      }
    }, 300_000);

    it('lists 20 executions with their violations and metrics in as many queries as 5', async () => {
      const list = (first: number) =>
        counted(async () => {
          const { monitoringExecutions } = await server.client.data(EXECUTIONS, { schedule: 'watch-0', first });
          expectTypename(monitoringExecutions, 'MonitoringExecutionList');
          return monitoringExecutions.executions;
        });
      const twenty = await list(20);
      expect(twenty.data).toHaveLength(20);
      for (const e of twenty.data) {
        expect(e.violations.length).toBeGreaterThan(0);
        expect(e.metrics.length).toBeGreaterThan(0);
        // JSON: the declared shape is what the next line asserts
        expect((e.constraintViolations as ConstraintViolations).violations).toHaveLength(e.violations.length);
      }
      const five = await list(5);
      expect(five.data).toHaveLength(5);
      console.log(
        `executions with violations and metrics: ${twenty.sql.length} queries for 20, ${five.sql.length} for 5`,
      );
      expect(twenty.sql.length, twenty.sql.join('\n')).toBeLessThanOrEqual(MAX_EXECUTION_LIST_QUERIES);
      expect(five.sql.length, five.sql.join('\n')).toBe(twenty.sql.length);
    });

    it('lists schedules with their baselines in the same number of queries for 3 schedules as for 8', async () => {
      const schedules = () =>
        counted(async () => {
          const { monitoringSchedules } = await server.client.data(SCHEDULES);
          expectTypename(monitoringSchedules, 'MonitoringScheduleList');
          return monitoringSchedules.schedules;
        });
      const three = await schedules();
      expect(three.data).toHaveLength(3);
      for (let i = 3; i < 8; i++) {
        await createSchedule(server, {
          name: `watch-${i}`,
          endpoint: 'watched',
          baseline: i % 2 ? 'base-b' : 'base-a',
        });
      }
      const eight = await schedules();
      expect(eight.data).toHaveLength(8);
      expect(new Set(eight.data.map((s) => s.baseline?.id)).size).toBe(2);
      console.log(`schedules with baselines: ${three.sql.length} queries for 3, ${eight.sql.length} for 8`);
      expect(eight.sql.length, eight.sql.join('\n')).toBeLessThanOrEqual(MAX_SCHEDULE_LIST_QUERIES);
      expect(eight.sql.length, eight.sql.join('\n')).toBe(three.sql.length);
    });
  });
});
