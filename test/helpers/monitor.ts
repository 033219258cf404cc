/** Model Monitor test helpers: crafted captures inserted straight into the database, and GraphQL documents. */
import { writeValues } from '../../src/db/insert.ts';
import type { Db } from '../../src/db/prisma.ts';
import { graphql, type VariablesOf } from '../../src/graphql.ts';
import { captureRollupRows } from '../../src/rollup/tables.ts';
import { expectTypename } from './graphql.ts';
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
      output:
        spec.classId === null
          ? n % 2
            ? null
            : 'not json'
          : JSON.stringify({ predictedClass: spec.classId, label: `class ${spec.classId}`, confidence }),
      predictedClass: spec.classId,
      confidence,
      top2Class: spec.classId === null ? null : (spec.classId + 1) % 43,
      top2Score: rest,
      top3Class: spec.classId === null ? null : (spec.classId + 2) % 43,
      top3Score: rest === null ? null : rest / 2,
    };
  });
}

export async function insertCaptures(
  server: TestServer,
  endpointId: string,
  specs: readonly CaptureSpec[],
): Promise<void> {
  await storeCaptures(server.app.database.prisma, captureRows(endpointId, specs));
}

/** capture rows and their additions to the rollups, as the capture writer stores them (a transaction per 500) */
export async function storeCaptures(prisma: Db, rows: ReturnType<typeof captureRows>): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await prisma.$transaction([
      prisma.capture.createMany({ data: chunk }),
      ...captureRollupRows(chunk).flatMap((table) => writeValues(prisma, table)),
    ]);
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
  const common = [
    1, 2, 12, 13, 38, 10, 4, 5, 25, 9, 7, 3, 8, 11, 35, 18, 17, 31, 14, 33, 15, 26, 28, 23, 30, 6, 16, 34, 36, 22, 20,
    40, 21, 39, 24, 29, 32, 27, 41, 42, 0, 19, 37,
  ];
  return Array.from({ length: n }, (_, i) => ({
    classId: common[(i * 7) % common.length]!,
    confidence: i % 20 === 7 ? 0.3 + (i % 5) / 100 : 0.8 + ((i * 37) % 199) / 1000,
  }));
}

// Fragments on the object types and on the error interface, not on a result union: they stay valid whatever
// each field's union is named and whichever errors it lists.
export const MONITOR_ERROR = graphql(`
  fragment MonitorErrorFields on VigilError {
    code
    message
    ... on ValidationError { field }
  }
`);

export const SCHEDULE = graphql(`
  fragment MonitoringScheduleFields on MonitoringSchedule {
    id
    name
    endpoint
    cron
    nextRunAt
    baseline { name }
    checks {
      minSampleSize
      classShare { enabled threshold }
      lowConfidence { enabled confidenceThreshold maxShare }
      completeness { enabled minNonNullShare }
      drift { enabled lInfinityThreshold chiSquaredPValue confidenceShiftThreshold }
    }
  }
`);

export const EXECUTION = graphql(`
  fragment MonitoringExecutionFields on MonitoringExecution {
    id schedule endpoint trigger status windowStart windowEnd recordCount classCounts message startedAt finishedAt
    insufficientData
    violations { check featureName constraintCheckType description }
    classes { classId label count share }
    metrics { name value timestamp }
  }
`);

export const BASELINE = graphql(`
  fragment BaselineFields on Baseline {
    id name endpoint source itemCount statistics constraints statisticsUrl constraintsUrl
    classes { classId count }
  }
`);

const CREATE_ENDPOINT = graphql(`
  mutation CreateMonitoredEndpoint($name: String!) {
    createEndpoint(input: { name: $name }) { __typename ... on Endpoint { id } ... on VigilError { message } }
  }
`);

export const CREATE_SCHEDULE = graphql(
  `
  mutation CreateMonitoringSchedule($input: CreateMonitoringScheduleInput!) {
    createMonitoringSchedule(input: $input) { __typename ...MonitoringScheduleFields ...MonitorErrorFields }
  }
`,
  [SCHEDULE, MONITOR_ERROR],
);

export const RUN = graphql(
  `
  mutation RunMonitoringSchedule($name: String!) {
    runMonitoringSchedule(name: $name) { __typename ...MonitoringExecutionFields ...MonitorErrorFields }
  }
`,
  [EXECUTION, MONITOR_ERROR],
);

export const CREATE_BASELINE = graphql(
  `
  mutation CreateBaseline($input: CreateBaselineInput!) {
    createBaseline(input: $input) { __typename ...BaselineFields ...MonitorErrorFields }
  }
`,
  [BASELINE, MONITOR_ERROR],
);

export type ScheduleInput = VariablesOf<typeof CREATE_SCHEDULE>['input'];
export type BaselineInput = VariablesOf<typeof CREATE_BASELINE>['input'];

export async function createEndpoint(server: TestServer, name: string): Promise<string> {
  const { createEndpoint } = await server.client.data(CREATE_ENDPOINT, { name });
  expectTypename(createEndpoint, 'Endpoint');
  return createEndpoint.id;
}

/** creates a schedule that the scheduler never runs during a test (yearly), failing on an error result */
export async function createSchedule(server: TestServer, input: ScheduleInput) {
  const { createMonitoringSchedule: s } = await server.client.data(CREATE_SCHEDULE, {
    input: { ...(input.cronHelper ? {} : { cron: '0 0 1 1 *' }), ...input },
  });
  expectTypename(s, 'MonitoringSchedule');
  return s;
}

/** runs a schedule now, failing on an error result; its class counts read as the JSON they are */
export async function run(server: TestServer, name: string) {
  const { runMonitoringSchedule: e } = await server.client.data(RUN, { name });
  expectTypename(e, 'MonitoringExecution');
  return { ...e, classCounts: classCountsOf(e.classCounts) };
}

/** a finished execution's `classCounts` (JSON): class number → count */
function classCountsOf(json: unknown): Record<string, number> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`classCounts: expected an object, got ${JSON.stringify(json)}`);
  }
  const counts: Record<string, number> = {};
  for (const [classId, count] of Object.entries(json)) {
    if (typeof count !== 'number') throw new Error(`classCounts: class ${classId} has ${JSON.stringify(count)}`);
    counts[classId] = count;
  }
  return counts;
}

/** statistics.json as a client reads it (SageMaker Model Monitor's shape): the parts the tests assert */
export interface BaselineStatistics {
  dataset: { item_count: number };
  features: [
    {
      name: string;
      inferred_type: string;
      string_statistics: {
        common: { num_present: number; num_missing: number };
        distinct_count: number;
        distribution: { categorical: { buckets: { value: string; count: number }[] } };
      };
    },
    {
      name: string;
      inferred_type: string;
      numerical_statistics: {
        mean: number;
        std_dev: number;
        min: number;
        max: number;
        distribution: { kll: { buckets: { lower_bound: number; upper_bound: number; count: number }[] } };
        quantiles: { quantile: number; value: number }[];
      };
    },
  ];
}

/** constraints.json as a client reads it: the parts the tests assert */
export interface BaselineConstraints {
  features: { name: string; inferred_type: string }[];
  monitoring_config: { distribution_constraints: Record<string, unknown> };
}

/** creates a baseline, failing on an error result; statistics and constraints (JSON) as the shapes tests assert */
export async function createBaseline(server: TestServer, input: BaselineInput) {
  const { createBaseline: b } = await server.client.data(CREATE_BASELINE, { input });
  expectTypename(b, 'Baseline');
  // JSON scalars are `unknown`: the declared shapes are what the tests then assert field by field
  return { ...b, statistics: b.statistics as BaselineStatistics, constraints: b.constraints as BaselineConstraints };
}
