/** Model Monitor test helpers: crafted captures inserted straight into the database, and GraphQL documents. */
import type { TestServer } from './server.ts';

export interface CaptureSpec {
  /** null: an output that cannot be read */
  classId: number | null;
  confidence?: number;
  /** epoch ms */
  at: number;
}

let sequence = 0;

/** Capture rows as the capture writer stores them (the output text holds the prediction). */
export function captureRows(endpointId: string, specs: readonly CaptureSpec[]) {
  return specs.map((spec) => {
    const n = sequence++;
    const confidence = spec.classId === null ? null : (spec.confidence ?? 0.95);
    const rest = confidence === null ? null : (1 - confidence) / 2;
    return {
      id: `mon-${process.pid}-${n}`,
      endpointId,
      eventId: `mon-evt-${process.pid}-${n}`,
      inferenceTime: new Date(spec.at),
      modelVersion: 'test',
      inputData: null,
      inputContentType: null,
      // unreadable outputs alternate between none at all and text that is not JSON
      output: spec.classId === null ? (n % 2 ? null : 'not json') : JSON.stringify({ predictedClass: spec.classId, label: `class ${spec.classId}`, confidence }),
      predictedClass: spec.classId,
      confidence,
      top2Class: spec.classId === null ? null : (spec.classId + 1) % 43,
      top2Score: rest,
      top3Class: spec.classId === null ? null : (spec.classId + 2) % 43,
      top3Score: rest === null ? null : rest / 2,
    };
  });
}

export async function insertCaptures(server: TestServer, endpointId: string, specs: readonly CaptureSpec[]): Promise<void> {
  const rows = captureRows(endpointId, specs);
  for (let i = 0; i < rows.length; i += 500) {
    await server.app.database.prisma.capture.createMany({ data: rows.slice(i, i + 500) });
  }
}

/** `n` instants spread over [from, to) (several may share a millisecond when the range is short) */
export function spread(n: number, from: number, to: number): number[] {
  return Array.from({ length: n }, (_, i) => from + Math.floor(((to - from) * i) / n));
}

/**
 * A "normal" window: every one of the 43 classes about equally often (in a scrambled order), confidence
 * mostly high (0.8–1), 5 % of it below 0.5.
 */
export function normalClasses(n: number): { classId: number; confidence: number }[] {
  const common = [1, 2, 12, 13, 38, 10, 4, 5, 25, 9, 7, 3, 8, 11, 35, 18, 17, 31, 14, 33, 15, 26, 28, 23, 30, 6, 16, 34, 36, 22, 20, 40, 21, 39, 24, 29, 32, 27, 41, 42, 0, 19, 37];
  return Array.from({ length: n }, (_, i) => ({
    classId: common[(i * 7) % common.length]!,
    confidence: i % 20 === 7 ? 0.3 + (i % 5) / 100 : 0.8 + ((i * 37) % 199) / 1000,
  }));
}

export async function createEndpoint(server: TestServer, name: string): Promise<string> {
  const { createEndpoint } = await server.client.data(
    `mutation($name: String!) { createEndpoint(input: { name: $name }) { __typename ... on Endpoint { id } ... on VigilError { message } } }`,
    { name },
  );
  if (createEndpoint.__typename !== 'Endpoint') throw new Error(`createEndpoint: ${JSON.stringify(createEndpoint)}`);
  return createEndpoint.id as string;
}

export const EXECUTION_FIELDS = `
  id schedule endpoint trigger status windowStart windowEnd recordCount classCounts message startedAt finishedAt
  violations { featureName constraintCheckType description }
  classes { classId label count share }
  metrics { name value timestamp }`;

export const CREATE_SCHEDULE = `
  mutation($input: CreateMonitoringScheduleInput!) {
    createMonitoringSchedule(input: $input) {
      __typename
      ... on MonitoringSchedule { id name endpoint cron nextRunAt baseline { name }
        checks { minSampleSize classShare { enabled threshold } lowConfidence { enabled confidenceThreshold maxShare }
                 completeness { enabled minNonNullShare } drift { enabled lInfinityThreshold chiSquaredPValue confidenceShiftThreshold } } }
      ... on VigilError { code message }
      ... on ValidationError { field }
    }
  }`;

export const RUN = `
  mutation($name: String!) {
    runMonitoringSchedule(name: $name) {
      __typename
      ... on MonitoringExecution { ${EXECUTION_FIELDS} }
      ... on VigilError { code message }
    }
  }`;

export const CREATE_BASELINE = `
  mutation($input: CreateBaselineInput!) {
    createBaseline(input: $input) {
      __typename
      ... on Baseline { id name endpoint source itemCount statistics constraints statisticsUrl constraintsUrl classes { classId count } }
      ... on VigilError { code message }
      ... on ValidationError { field }
    }
  }`;

/** creates a schedule that the scheduler never runs during a test (yearly), failing on an error result */
export async function createSchedule(server: TestServer, input: Record<string, unknown>) {
  const { createMonitoringSchedule: s } = await server.client.data(CREATE_SCHEDULE, {
    input: { ...(input.cronHelper ? {} : { cron: '0 0 1 1 *' }), ...input },
  });
  if (s.__typename !== 'MonitoringSchedule') throw new Error(`createMonitoringSchedule: ${JSON.stringify(s)}`);
  return s;
}

export async function run(server: TestServer, name: string) {
  const { runMonitoringSchedule: e } = await server.client.data(RUN, { name });
  if (e.__typename !== 'MonitoringExecution') throw new Error(`runMonitoringSchedule: ${JSON.stringify(e)}`);
  return e;
}
