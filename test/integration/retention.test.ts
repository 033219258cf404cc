/**
 * Retention through the real server: per-endpoint capture and hook retention, per-schedule execution
 * retention, deleteEndpoint as a tombstone whose data the sweeper removes in the background, and the
 * storage query. Old rows are inserted straight into the database with old timestamps; the sweeps
 * run in the server (`app.retention`), and every DELETE they send is checked to name at most one
 * batch of rows.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CAPTURE_TABLE } from '../../src/capture/record.ts';
import type { CaptureRecord } from '../../src/capture/types.ts';
import { insertValues } from '../../src/db/insert.ts';
import type { Db } from '../../src/db/prisma.ts';
import { STEP_TABLE, TENSOR_TABLE } from '../../src/debugger/step-rows.ts';
import { graphql, type VariablesOf } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const ERROR = graphql(`fragment RetentionError on VigilError { code message ... on ValidationError { field } }`);
const ENDPOINT = graphql(`
  fragment RetentionEndpoint on Endpoint {
    id
    name
    dataCapture { enabled retentionDays }
    debugHook { enabled retentionDays }
  }
`);
const CREATE = graphql(
  `mutation CreateRetained($input: CreateEndpointInput!) {
    createEndpoint(input: $input) { __typename ...RetentionEndpoint ...RetentionError }
  }`,
  [ENDPOINT, ERROR],
);
const UPDATE = graphql(
  `mutation UpdateRetained($name: String!, $input: UpdateEndpointInput!) {
    updateEndpoint(name: $name, input: $input) { __typename ...RetentionEndpoint ...RetentionError }
  }`,
  [ENDPOINT, ERROR],
);
const DELETE = graphql(
  `mutation DeleteRetained($name: String!) {
    deleteEndpoint(name: $name) { __typename ...RetentionEndpoint ...RetentionError }
  }`,
  [ENDPOINT, ERROR],
);
const SCHEDULE = graphql(`fragment RetentionSchedule on MonitoringSchedule { id name executionRetentionDays }`);
const CREATE_SCHEDULE = graphql(
  `mutation CreateRetainedSchedule($input: CreateMonitoringScheduleInput!) {
    createMonitoringSchedule(input: $input) { __typename ...RetentionSchedule ...RetentionError }
  }`,
  [SCHEDULE, ERROR],
);
const UPDATE_SCHEDULE = graphql(
  `mutation UpdateRetainedSchedule($name: String!, $input: UpdateMonitoringScheduleInput!) {
    updateMonitoringSchedule(name: $name, input: $input) { __typename ...RetentionSchedule ...RetentionError }
  }`,
  [SCHEDULE, ERROR],
);
const STORAGE = graphql(
  `query Storage($endpoint: String) {
    storage(endpoint: $endpoint) {
      __typename
      ... on StorageReport {
        endpoints {
          endpoint { name }
          captures { count bytes }
          debugSteps
          tensors { count bytes }
          executions
        }
      }
      ...RetentionError
    }
  }`,
  [ERROR],
);

/** a server whose sweeper runs only when woken or asked, deleting `batchSize` rows per statement */
function retentionServer(batchSize: number): { server: TestServer; statements: string[] } {
  const statements: string[] = [];
  const server = useTestServer(() => ({
    config: {
      retention: { sweepIntervalMs: 3_600_000, batchSize, batchPauseMs: 0 },
      onQuery: (sql) => void statements.push(sql),
    },
  }));
  return { server, statements };
}

/** the DELETE statements among `statements`, with the number of ids each names */
function deletes(statements: readonly string[]): { table: string; ids: number }[] {
  return statements.flatMap((sql) => {
    const match = /^DELETE FROM "?(\w+)"?/.exec(sql.trim());
    if (!match) return [];
    // one placeholder per id: `?` (SQLite) or `$n` (PostgreSQL)
    const list = sql.slice(sql.indexOf(' IN ('));
    const ids = list.startsWith(' IN (') ? (list.match(/\?|\$\d+/g) ?? []).length : 1;
    return [{ table: match[1] ?? '', ids }];
  });
}

let stepNumber = 0;

/** captures at the given instants, each with `inputBytes` of request bytes; their ids */
async function insertCaptures(prisma: Db, endpointId: string, times: readonly number[], inputBytes = 16) {
  const rows: CaptureRecord[] = times.map((at, i) => ({
    id: randomUUID(),
    endpointId,
    eventId: randomUUID(),
    inferenceTime: new Date(at),
    modelVersion: 'test',
    inputData: new Uint8Array(inputBytes).fill(i & 255),
    inputContentType: 'image/png',
    output: JSON.stringify({ predictedClass: i % 43, label: 'x', confidence: 0.9 }),
    predictedClass: i % 43,
    confidence: 0.9,
    top2Class: null,
    top2Score: null,
    top3Class: null,
    top3Score: null,
  }));
  const table = CAPTURE_TABLE.rows(rows);
  for (const statement of insertValues(prisma, table.table, table.columns, table.values)) await statement;
  return rows.map((r) => r.id);
}

/** a debug step per capture (or unattached ones), saved at `createdAt`, each with `tensors` tensors of `bytes` bytes */
async function insertSteps(
  prisma: Db,
  endpointId: string,
  captureIds: readonly (string | null)[],
  createdAt: number,
  tensors = 3,
  bytes = 32,
): Promise<string[]> {
  const steps = captureIds.map((captureId) => ({
    id: randomUUID(),
    endpointId,
    step: stepNumber++,
    mode: 'PREDICT' as const,
    captureId,
    createdAt: new Date(createdAt),
  }));
  const tensorRows = steps.flatMap((step) =>
    Array.from({ length: tensors }, (_, i) => ({
      id: randomUUID(),
      stepId: step.id,
      name: `t${i}`,
      shape: `[${bytes / 4}]`,
      dtype: 'float32',
      encoding: 'f32',
      data: new Uint8Array(bytes),
    })),
  );
  for (const { table, columns, values } of [STEP_TABLE.rows(steps), TENSOR_TABLE.rows(tensorRows)]) {
    for (const statement of insertValues(prisma, table, columns, values)) await statement;
  }
  return steps.map((s) => s.id);
}

/** executions of a schedule whose windows end at the given instants, each with 2 violations and 3 metrics */
async function insertExecutions(
  prisma: Db,
  scheduleId: string,
  windowEnds: readonly number[],
  status = 'CompletedWithViolations',
): Promise<string[]> {
  const { endpointId } = await prisma.monitoringSchedule.findUniqueOrThrow({
    where: { id: scheduleId },
    select: { endpointId: true },
  });
  const executions = windowEnds.map((end) => ({
    id: randomUUID(),
    scheduleId,
    endpointId,
    trigger: 'SCHEDULED',
    status,
    windowStart: new Date(end - HOUR),
    windowEnd: new Date(end),
    startedAt: new Date(end),
  }));
  await prisma.monitoringExecution.createMany({ data: executions });
  await prisma.violation.createMany({
    data: executions.flatMap((e) =>
      [0, 1].map((i) => ({
        id: randomUUID(),
        executionId: e.id,
        check: 'COMPLETENESS',
        featureName: `f${i}`,
        constraintCheckType: 'completeness_check',
        description: 'test',
      })),
    ),
  });
  await prisma.metric.createMany({
    data: executions.flatMap((e) =>
      [0, 1, 2].map((i) => ({
        id: randomUUID(),
        scheduleId,
        executionId: e.id,
        name: `m${i}`,
        value: i,
        timestamp: e.windowEnd,
      })),
    ),
  });
  return executions.map((e) => e.id);
}

async function createEndpoint(server: TestServer, input: VariablesOf<typeof CREATE>['input']) {
  const { createEndpoint: created } = await server.client.data(CREATE, { input });
  expectTypename(created, 'Endpoint');
  return created;
}

describe('retention settings', () => {
  const { server } = retentionServer(100);

  it('sets, reads back, clears (0) and validates retentionDays of captures, the hook and executions', async () => {
    const created = await createEndpoint(server, {
      name: 'settings',
      dataCapture: { retentionDays: 7 },
      debugHook: { retentionDays: 2 },
    });
    expect(created.dataCapture.retentionDays).toBe(7);
    expect(created.debugHook.retentionDays).toBe(2);

    const cleared = await server.client.data(UPDATE, {
      name: 'settings',
      input: { dataCapture: { retentionDays: 0 } },
    });
    expectTypename(cleared.updateEndpoint, 'Endpoint');
    expect(cleared.updateEndpoint.dataCapture.retentionDays).toBeNull();
    expect(cleared.updateEndpoint.debugHook.retentionDays).toBe(2);

    for (const [input, field] of [
      [{ dataCapture: { retentionDays: 3651 } }, 'dataCapture.retentionDays'],
      [{ debugHook: { retentionDays: -1 } }, 'debugHook.retentionDays'],
    ] as const) {
      const { updateEndpoint } = await server.client.data(UPDATE, { name: 'settings', input });
      expectTypename(updateEndpoint, 'ValidationError');
      expect(updateEndpoint.field).toBe(field);
    }

    const { createMonitoringSchedule } = await server.client.data(CREATE_SCHEDULE, {
      input: { name: 'settings-schedule', endpoint: 'settings', cron: '0 0 1 1 *', executionRetentionDays: 30 },
    });
    expectTypename(createMonitoringSchedule, 'MonitoringSchedule');
    expect(createMonitoringSchedule.executionRetentionDays).toBe(30);
    const tooLong = await server.client.data(UPDATE_SCHEDULE, {
      name: 'settings-schedule',
      input: { executionRetentionDays: 4000 },
    });
    expectTypename(tooLong.updateMonitoringSchedule, 'ValidationError');
    expect(tooLong.updateMonitoringSchedule.field).toBe('executionRetentionDays');
    const forever = await server.client.data(UPDATE_SCHEDULE, {
      name: 'settings-schedule',
      input: { executionRetentionDays: 0 },
    });
    expectTypename(forever.updateMonitoringSchedule, 'MonitoringSchedule');
    expect(forever.updateMonitoringSchedule.executionRetentionDays).toBeNull();
    // on create as on update: 0 keeps them for ever, 3651 is refused
    for (const [executionRetentionDays, expected] of [
      [0, null],
      [3651, 'executionRetentionDays'],
    ] as const) {
      const created = await server.client.data(CREATE_SCHEDULE, {
        input: {
          name: `kept-${executionRetentionDays}`,
          endpoint: 'settings',
          cron: '0 0 1 1 *',
          executionRetentionDays,
        },
      });
      if (expected === null) {
        expectTypename(created.createMonitoringSchedule, 'MonitoringSchedule');
        expect(created.createMonitoringSchedule.executionRetentionDays).toBeNull();
      } else {
        expectTypename(created.createMonitoringSchedule, 'ValidationError');
        expect(created.createMonitoringSchedule.field).toBe(expected);
      }
    }
  });
});

describe('retention sweeps', () => {
  const { server, statements } = retentionServer(100);

  it('deletes exactly the captures older than the retention, with their steps and tensors, in batches', async () => {
    const prisma = server.app.database.prisma;
    const retained = await createEndpoint(server, { name: 'week', dataCapture: { retentionDays: 7 } });
    const forever = await createEndpoint(server, { name: 'forever' });
    const now = Date.now();
    const oldTimes = Array.from({ length: 1234 }, (_, i) => now - 7 * DAY - HOUR - i * 60_000);
    const newTimes = Array.from({ length: 300 }, (_, i) => now - 7 * DAY + HOUR + i * 60_000);
    const oldIds = await insertCaptures(prisma, retained.id, oldTimes);
    const newIds = await insertCaptures(prisma, retained.id, newTimes);
    const untouched = await insertCaptures(prisma, forever.id, oldTimes.slice(0, 100));
    const oldSteps = await insertSteps(prisma, retained.id, oldIds.slice(0, 40), now - 30 * DAY, 5);
    const newSteps = await insertSteps(prisma, retained.id, newIds.slice(0, 10), now - HOUR, 5);

    statements.length = 0;
    const report = await server.app.retention.sweep();
    expect(report.deleted).toMatchObject({ Capture: 1234, DebugStep: 40, Tensor: 200 });
    expect(report.largestStatement).toBeLessThanOrEqual(100);

    const left = await prisma.capture.findMany({ where: { endpointId: retained.id }, select: { id: true } });
    expect(left.map((c) => c.id).sort()).toEqual([...newIds].sort());
    expect(await prisma.capture.count({ where: { id: { in: untouched } } })).toBe(100);
    expect(await prisma.debugStep.count({ where: { id: { in: oldSteps } } })).toBe(0);
    expect(await prisma.tensor.count({ where: { stepId: { in: oldSteps } } })).toBe(0);
    expect(await prisma.debugStep.count({ where: { id: { in: newSteps } } })).toBe(10);
    expect(await prisma.tensor.count({ where: { stepId: { in: newSteps } } })).toBe(50);

    // chunked: every DELETE names at most one batch, and the captures took at least ⌈1234 / 100⌉ of them
    const sent = deletes(statements);
    expect(sent.length).toBe(report.statements);
    expect(Math.max(...sent.map((d) => d.ids))).toBeLessThanOrEqual(100);
    expect(sent.filter((d) => d.table === 'Capture').length).toBeGreaterThanOrEqual(13);

    // a second sweep finds nothing more
    const again = await server.app.retention.sweep();
    expect(again.statements).toBe(0);
  });

  it('deletes debug steps and tensors older than the hook retention, and keeps their captures', async () => {
    const prisma = server.app.database.prisma;
    const hooked = await createEndpoint(server, { name: 'hooked', debugHook: { retentionDays: 1 } });
    const now = Date.now();
    const captures = await insertCaptures(prisma, hooked.id, [now - 3 * DAY, now - 2 * DAY, now - HOUR]);
    const old = await insertSteps(prisma, hooked.id, [captures[0]!, captures[1]!], now - DAY - HOUR, 150);
    const recent = await insertSteps(prisma, hooked.id, [captures[2]!], now - HOUR, 150);

    const report = await server.app.retention.sweep();
    expect(report.deleted).toMatchObject({ Capture: 0, DebugStep: 2, Tensor: 300 });
    expect(report.largestStatement).toBeLessThanOrEqual(100);
    expect(await prisma.capture.count({ where: { endpointId: hooked.id } })).toBe(3);
    expect(await prisma.debugStep.count({ where: { id: { in: old } } })).toBe(0);
    expect(await prisma.debugStep.count({ where: { id: { in: recent } } })).toBe(1);
    expect(await prisma.tensor.count({ where: { stepId: { in: recent } } })).toBe(150);
  });

  it("deletes executions older than the schedule's retention, with violations and metrics, but never the one the next window starts from", async () => {
    const prisma = server.app.database.prisma;
    await createEndpoint(server, { name: 'monitored' });
    const schedule = async (name: string) => {
      const { createMonitoringSchedule } = await server.client.data(CREATE_SCHEDULE, {
        input: { name, endpoint: 'monitored', cron: '0 0 1 1 *', executionRetentionDays: 30 },
      });
      expectTypename(createMonitoringSchedule, 'MonitoringSchedule');
      return createMonitoringSchedule.id;
    };
    const now = Date.now();
    const active = await schedule('active');
    const expired = await insertExecutions(
      prisma,
      active,
      Array.from({ length: 150 }, (_, i) => now - 31 * DAY - i * HOUR),
    );
    const kept = await insertExecutions(prisma, active, [now - 29 * DAY, now - DAY]);
    const running = await insertExecutions(prisma, active, [now - 40 * DAY - 7 * HOUR], 'InProgress');

    // a schedule whose executions are all old: the latest that did not fail anchors its next window
    const idle = await schedule('idle');
    const idleOld = await insertExecutions(prisma, idle, [now - 90 * DAY, now - 80 * DAY]);
    const anchor = await insertExecutions(prisma, idle, [now - 70 * DAY]);
    const failedAfter = await insertExecutions(prisma, idle, [now - 60 * DAY], 'Failed');

    const report = await server.app.retention.sweep();
    expect(report.deleted).toMatchObject({ MonitoringExecution: 152, Violation: 304, Metric: 456 });
    expect(report.largestStatement).toBeLessThanOrEqual(100);
    const left = async (ids: string[]) => prisma.monitoringExecution.count({ where: { id: { in: ids } } });
    expect(await left(expired)).toBe(0);
    expect(await left(idleOld)).toBe(0);
    expect(await left([...kept, ...running, ...anchor, ...failedAfter])).toBe(5);
    expect(await prisma.violation.count({ where: { executionId: { in: [...expired, ...idleOld] } } })).toBe(0);
    expect(await prisma.metric.count({ where: { executionId: { in: [...expired, ...idleOld] } } })).toBe(0);
    expect(await prisma.metric.count({ where: { executionId: { in: kept } } })).toBe(6);
  });

  it('reports per endpoint the rows and bytes that direct counts give', async () => {
    const prisma = server.app.database.prisma;
    const measured = await createEndpoint(server, { name: 'measured' });
    const now = Date.now();
    const captures = await insertCaptures(prisma, measured.id, [now - 3, now - 2, now - 1], 1000);
    await insertSteps(prisma, measured.id, [captures[0]!, null], now, 4, 256);
    const { createMonitoringSchedule } = await server.client.data(CREATE_SCHEDULE, {
      input: { name: 'measured-schedule', endpoint: 'measured', cron: '0 0 1 1 *' },
    });
    expectTypename(createMonitoringSchedule, 'MonitoringSchedule');
    await insertExecutions(prisma, createMonitoringSchedule.id, [now - DAY, now - 2 * DAY]);

    const { storage } = await server.client.data(STORAGE, {});
    expectTypename(storage, 'StorageReport');
    const endpoints = await prisma.endpoint.findMany({ where: { deletedAt: null }, select: { id: true, name: true } });
    expect(storage.endpoints.map((e) => e.endpoint.name).sort()).toEqual(endpoints.map((e) => e.name).sort());
    for (const { id, name } of endpoints) {
      const inputs = await prisma.capture.findMany({ where: { endpointId: id }, select: { inputData: true } });
      const tensors = await prisma.tensor.findMany({ where: { step: { endpointId: id } }, select: { data: true } });
      expect(storage.endpoints.find((e) => e.endpoint.name === name)).toEqual({
        endpoint: { name },
        captures: { count: inputs.length, bytes: inputs.reduce((n, c) => n + (c.inputData?.byteLength ?? 0), 0) },
        debugSteps: await prisma.debugStep.count({ where: { endpointId: id } }),
        tensors: { count: tensors.length, bytes: tensors.reduce((n, t) => n + t.data.byteLength, 0) },
        executions: await prisma.monitoringExecution.count({ where: { schedule: { endpointId: id } } }),
      });
    }
    const one = await server.client.data(STORAGE, { endpoint: 'measured' });
    expectTypename(one.storage, 'StorageReport');
    expect(one.storage.endpoints).toEqual([
      {
        endpoint: { name: 'measured' },
        captures: { count: 3, bytes: 3000 },
        debugSteps: 2,
        tensors: { count: 8, bytes: 2048 },
        executions: 2,
      },
    ]);
    const unknown = await server.client.data(STORAGE, { endpoint: 'nope' });
    expectTypename(unknown.storage, 'NotFoundError');
  });
});

describe('the sweeper as a background service', () => {
  const server = useTestServer({ env: { RETENTION_SWEEP_INTERVAL_MS: '200' } });

  it('sweeps every RETENTION_SWEEP_INTERVAL_MS without being asked', async () => {
    const prisma = server.app.database.prisma;
    const endpoint = await createEndpoint(server, { name: 'timed', dataCapture: { retentionDays: 1 } });
    const [expired, fresh] = await insertCaptures(prisma, endpoint.id, [Date.now() - 2 * DAY, Date.now()]);
    const deadline = Date.now() + 20_000;
    while ((await prisma.capture.count({ where: { id: expired! } })) > 0) {
      if (Date.now() > deadline) throw new Error('no sweep within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await prisma.capture.count({ where: { id: fresh! } })).toBe(1);
  });
});

describe('deleteEndpoint', () => {
  const { server, statements } = retentionServer(500);

  it('returns at once with no DELETE, frees the name, and the sweeper it wakes removes the data in batches', async () => {
    const prisma = server.app.database.prisma;
    const doomed = await createEndpoint(server, {
      name: 'doomed',
      dataCapture: { enabled: true, samplingPercentage: 100, retentionDays: 30 },
    });
    const bystander = await createEndpoint(server, { name: 'bystander' });
    const now = Date.now();
    const captureIds = await insertCaptures(
      prisma,
      doomed.id,
      Array.from({ length: 20_000 }, (_, i) => now - i * 1000),
      64,
    );
    const stepIds = await insertSteps(prisma, doomed.id, captureIds.slice(0, 200), now, 5);
    await insertCaptures(prisma, bystander.id, [now, now - 1]);
    await prisma.baseline.create({
      data: {
        id: randomUUID(),
        endpointId: doomed.id,
        name: 'base',
        source: 'WINDOW',
        itemCount: 0,
        statistics: '{}',
        constraints: '{}',
      },
    });
    const { createMonitoringSchedule } = await server.client.data(CREATE_SCHEDULE, {
      input: { name: 'doomed-hourly', endpoint: 'doomed', cron: '0 * * * *' },
    });
    expectTypename(createMonitoringSchedule, 'MonitoringSchedule');
    const executionIds = await insertExecutions(
      prisma,
      createMonitoringSchedule.id,
      Array.from({ length: 30 }, (_, i) => now - i * HOUR),
    );

    statements.length = 0;
    const started = performance.now();
    const { deleteEndpoint } = await server.client.data(DELETE, { name: 'doomed' });
    const elapsed = performance.now() - started;
    expectTypename(deleteEndpoint, 'Endpoint');
    expect(deleteEndpoint).toMatchObject({ id: doomed.id, name: 'doomed', dataCapture: { retentionDays: 30 } });
    // The mutation deletes nothing: a lookup and one UPDATE that marks the endpoint; the sweeper it wakes
    // sends the rest (timing is noise on a shared machine, so statements are what is asserted).
    const marked = statements.findIndex(
      (sql) => /^UPDATE (\S+\.)?["`]Endpoint["`] /.test(sql) && sql.includes('deletedAt'),
    );
    expect(marked).toBeGreaterThanOrEqual(0);
    const mutation = statements.slice(0, marked + 1);
    expect(mutation.filter((sql) => !sql.startsWith('SELECT'))).toHaveLength(1);
    expect(elapsed).toBeLessThan(2000);

    // gone for every reader at once, and the name is free
    const gone = await server.client.data(
      graphql(
        `query Gone($capture: ID!) {
          endpoint(name: "doomed") { name }
          endpoints { name }
          capture(id: $capture) { id }
          monitoringSchedule(name: "doomed-hourly") { name }
        }`,
      ),
      { capture: captureIds[0]! },
    );
    expect(gone.endpoint).toBeNull();
    expect(gone.endpoints.map((e) => e.name)).toEqual(['bystander']);
    expect(gone.capture).toBeNull();
    expect(gone.monitoringSchedule).toBeNull();
    const predict = await server.client.data(
      graphql(`mutation PredictDoomed($image: String!) {
        predict(endpoint: "doomed", image: { base64: $image }) { __typename }
      }`),
      { image: fixture('stop_like_octagon.png').toString('base64') },
    );
    expect(predict.predict.__typename).toBe('NotFoundError');
    const reborn = await createEndpoint(server, { name: 'doomed' });
    expect(reborn.id).not.toBe(doomed.id);

    // the DELETED event woke the sweeper (its interval is an hour): wait for the endpoint row to go
    const deadline = Date.now() + 60_000;
    while ((await prisma.endpoint.count({ where: { id: doomed.id } })) > 0) {
      if (Date.now() > deadline) throw new Error('the deleted endpoint was not swept within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.app.retention.sweep();
    expect(await prisma.capture.count({ where: { endpointId: doomed.id } })).toBe(0);
    expect(await prisma.debugStep.count({ where: { id: { in: stepIds } } })).toBe(0);
    expect(await prisma.tensor.count({ where: { stepId: { in: stepIds } } })).toBe(0);
    expect(await prisma.baseline.count({ where: { endpointId: doomed.id } })).toBe(0);
    expect(await prisma.monitoringSchedule.count({ where: { endpointId: doomed.id } })).toBe(0);
    expect(await prisma.monitoringExecution.count({ where: { id: { in: executionIds } } })).toBe(0);
    expect(await prisma.metric.count({ where: { executionId: { in: executionIds } } })).toBe(0);
    expect(await prisma.capture.count({ where: { endpointId: bystander.id } })).toBe(2);

    const sent = deletes(statements);
    expect(Math.max(...sent.map((d) => d.ids))).toBeLessThanOrEqual(500);
    expect(sent.filter((d) => d.table === 'Capture').length).toBeGreaterThanOrEqual(40);

    // the schedule's name is free again too
    const { createMonitoringSchedule: again } = await server.client.data(CREATE_SCHEDULE, {
      input: { name: 'doomed-hourly', endpoint: 'doomed', cron: '0 * * * *' },
    });
    expectTypename(again, 'MonitoringSchedule');
  });
});
