/**
 * Every error a result union declares is one its field can raise. The test walks the built schema for
 * each field whose type (lists and non-null unwrapped) is a union with members implementing
 * `VigilError`, and holds a table with one case per (field, error) pair: an operation that provokes
 * that error through the real server, whose result at the field's path must be that error type with
 * its code. A declared pair without a case, or a case for a pair the schema no longer declares, fails:
 * an error type is added to a field only together with the proof that the field raises it.
 */
import { randomUUID } from 'node:crypto';
import { getNamedType, isObjectType, isUnionType, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema/index.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer, type TestServer } from '../helpers/server.ts';

/** `Type.field → ErrorType` for every error member of every union a field returns */
function declaredErrorPairs(schema: GraphQLSchema): string[] {
  const pairs: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const result = getNamedType(field.type);
      if (!isUnionType(result)) continue;
      for (const member of result.getTypes()) {
        if (member.getInterfaces().some((i) => i.name === 'VigilError')) pairs.push(`${type.name}.${field.name} → ${member.name}`);
      }
    }
  }
  return pairs.sort();
}

const CODES: Record<string, string> = {
  NotFoundError: 'NOT_FOUND',
  ValidationError: 'VALIDATION',
  ConflictError: 'CONFLICT',
  InvalidImageError: 'INVALID_IMAGE',
};

/** what the setup made, for the cases' variables */
interface Fixture {
  /** a capture recorded with the hook off */
  plainCapture: string;
  /** a capture with a `fullgrad` step, and that step */
  hookedCapture: string;
  hookedStep: number;
  /** a step that saved biases only: no input, no gradients */
  partialStep: number;
}

interface Case {
  /** selects `${ERR}` at `path` */
  document: string;
  variables?: (fx: Fixture) => Record<string, unknown>;
  /** where the field's value is in `data`; a number indexes a list */
  path: readonly (string | number)[];
  /** puts the server in the state the error needs; returns what undoes it */
  arrange?: (server: TestServer) => Promise<() => Promise<void>>;
}

const ERR = '__typename ... on VigilError { code message }';
const PNG = fixture('stop_like_octagon.png').toString('base64');
const NOT_AN_IMAGE = Buffer.from('not an image').toString('base64');
const UNKNOWN_ID = randomUUID();

/** One case per (field, error) pair the schema declares: keys are `Type.field → ErrorType`. */
const CASES: Record<string, Case> = {
  // endpoints
  'Mutation.createEndpoint → ConflictError': { document: `mutation { createEndpoint(input: { name: "plain" }) { ${ERR} } }`, path: ['createEndpoint'] },
  'Mutation.createEndpoint → NotFoundError': {
    document: `mutation { createEndpoint(input: { name: "other", model: "no-such-model" }) { ${ERR} } }`,
    path: ['createEndpoint'],
  },
  'Mutation.createEndpoint → ValidationError': { document: `mutation { createEndpoint(input: { name: "-bad-" }) { ${ERR} } }`, path: ['createEndpoint'] },
  'Mutation.updateEndpoint → NotFoundError': { document: `mutation { updateEndpoint(name: "nope", input: {}) { ${ERR} } }`, path: ['updateEndpoint'] },
  'Mutation.updateEndpoint → ValidationError': {
    document: `mutation { updateEndpoint(name: "plain", input: { dataCapture: { samplingPercentage: 200 } }) { ${ERR} } }`,
    path: ['updateEndpoint'],
  },
  'Mutation.deleteEndpoint → NotFoundError': { document: `mutation { deleteEndpoint(name: "nope") { ${ERR} } }`, path: ['deleteEndpoint'] },

  // inference
  'Mutation.predict → InvalidImageError': {
    document: `mutation($image: String!) { predict(endpoint: "plain", image: { base64: $image }) { ${ERR} } }`,
    variables: () => ({ image: NOT_AN_IMAGE }),
    path: ['predict'],
  },
  'Mutation.predict → NotFoundError': {
    document: `mutation($image: String!) { predict(endpoint: "nope", image: { base64: $image }) { ${ERR} } }`,
    variables: () => ({ image: PNG }),
    path: ['predict'],
  },
  'Mutation.predict → ValidationError': {
    document: `mutation($image: String!) { predict(endpoint: "plain", image: { base64: $image }, topK: 0) { ${ERR} } }`,
    variables: () => ({ image: PNG }),
    path: ['predict'],
  },
  'Mutation.predictBatch → NotFoundError': {
    document: `mutation($image: String!) { predictBatch(endpoint: "nope", images: [{ base64: $image }]) { ${ERR} } }`,
    variables: () => ({ image: PNG }),
    path: ['predictBatch'],
  },
  'Mutation.predictBatch → ValidationError': { document: `mutation { predictBatch(endpoint: "plain", images: []) { ${ERR} } }`, path: ['predictBatch'] },
  'PredictBatch.predictions → InvalidImageError': {
    document: `mutation($good: String!, $bad: String!) {
      predictBatch(endpoint: "plain", images: [{ base64: $good }, { base64: $bad }]) { ... on PredictBatch { predictions { ${ERR} } } } }`,
    variables: () => ({ good: PNG, bad: NOT_AN_IMAGE }),
    path: ['predictBatch', 'predictions', 1],
  },

  // captures
  'Query.captures → NotFoundError': { document: `{ captures(endpoint: "nope") { ${ERR} } }`, path: ['captures'] },
  'Query.captures → ValidationError': { document: `{ captures(endpoint: "plain", first: 0) { ${ERR} } }`, path: ['captures'] },

  // monitor
  'Query.baselines → NotFoundError': { document: `{ baselines(endpoint: "nope") { ${ERR} } }`, path: ['baselines'] },
  'Query.monitoringSchedules → NotFoundError': { document: `{ monitoringSchedules(endpoint: "nope") { ${ERR} } }`, path: ['monitoringSchedules'] },
  'Query.monitoringExecutions → NotFoundError': { document: `{ monitoringExecutions(schedule: "nope") { ${ERR} } }`, path: ['monitoringExecutions'] },
  'Query.monitoringExecutions → ValidationError': {
    document: `{ monitoringExecutions(schedule: "sched", first: 0) { ${ERR} } }`,
    path: ['monitoringExecutions'],
  },
  'MonitoringSchedule.executions → ValidationError': {
    document: `{ monitoringSchedule(name: "sched") { executions(first: 0) { ${ERR} } } }`,
    path: ['monitoringSchedule', 'executions'],
  },
  'Query.metrics → NotFoundError': { document: `{ metrics(schedule: "nope", name: "record_count") { ${ERR} } }`, path: ['metrics'] },
  'Query.cronExpression → ValidationError': { document: `{ cronExpression(kind: EVERY_N_HOURS) { ${ERR} } }`, path: ['cronExpression'] },
  'CronExpression.nextRuns → ValidationError': {
    document: `{ cronExpression(kind: HOURLY) { ... on CronExpression { nextRuns(count: 0) { ${ERR} } } } }`,
    path: ['cronExpression', 'nextRuns'],
  },
  'Mutation.createBaseline → ConflictError': {
    document: `mutation { createBaseline(input: { endpoint: "plain", name: "base" }) { ${ERR} } }`,
    path: ['createBaseline'],
  },
  'Mutation.createBaseline → NotFoundError': {
    document: `mutation { createBaseline(input: { endpoint: "nope", name: "base" }) { ${ERR} } }`,
    path: ['createBaseline'],
  },
  'Mutation.createBaseline → ValidationError': {
    document: `mutation { createBaseline(input: { endpoint: "plain", name: "base2", categoricalThreshold: 2 }) { ${ERR} } }`,
    path: ['createBaseline'],
  },
  'Mutation.deleteBaseline → NotFoundError': {
    document: `mutation($id: ID!) { deleteBaseline(id: $id) { ${ERR} } }`,
    variables: () => ({ id: UNKNOWN_ID }),
    path: ['deleteBaseline'],
  },
  'Mutation.createMonitoringSchedule → ConflictError': {
    document: `mutation { createMonitoringSchedule(input: { name: "sched", endpoint: "plain", cron: "0 0 1 1 *" }) { ${ERR} } }`,
    path: ['createMonitoringSchedule'],
  },
  'Mutation.createMonitoringSchedule → NotFoundError': {
    document: `mutation { createMonitoringSchedule(input: { name: "other", endpoint: "plain", cron: "0 0 1 1 *", baseline: "nope" }) { ${ERR} } }`,
    path: ['createMonitoringSchedule'],
  },
  'Mutation.createMonitoringSchedule → ValidationError': {
    document: `mutation { createMonitoringSchedule(input: { name: "other", endpoint: "plain", cron: "not a cron" }) { ${ERR} } }`,
    path: ['createMonitoringSchedule'],
  },
  'Mutation.updateMonitoringSchedule → NotFoundError': {
    document: `mutation { updateMonitoringSchedule(name: "nope", input: {}) { ${ERR} } }`,
    path: ['updateMonitoringSchedule'],
  },
  'Mutation.updateMonitoringSchedule → ValidationError': {
    document: `mutation { updateMonitoringSchedule(name: "sched", input: { cron: "61 * * * *" }) { ${ERR} } }`,
    path: ['updateMonitoringSchedule'],
  },
  'Mutation.deleteMonitoringSchedule → NotFoundError': {
    document: `mutation { deleteMonitoringSchedule(name: "nope") { ${ERR} } }`,
    path: ['deleteMonitoringSchedule'],
  },
  'Mutation.runMonitoringSchedule → NotFoundError': { document: `mutation { runMonitoringSchedule(name: "nope") { ${ERR} } }`, path: ['runMonitoringSchedule'] },
  'Mutation.runMonitoringSchedule → ConflictError': {
    // another replica holds the schedule's lease: the manual run waits for it (10 s), then gives up
    document: `mutation { runMonitoringSchedule(name: "sched") { ${ERR} } }`,
    path: ['runMonitoringSchedule'],
    arrange: async (server) => {
      const { monitoringSchedule } = server.app.database.prisma;
      await monitoringSchedule.update({ where: { name: 'sched' }, data: { leaseOwner: 'another-replica', leaseExpiresAt: new Date(Date.now() + 5 * 60_000) } });
      return async () => {
        await monitoringSchedule.update({ where: { name: 'sched' }, data: { leaseOwner: null, leaseExpiresAt: null } });
      };
    },
  },

  // debugger
  'Query.trial → NotFoundError': { document: `{ trial(endpoint: "nope") { ${ERR} } }`, path: ['trial'] },
  'Trial.step → NotFoundError': { document: `{ trial(endpoint: "hooked") { ... on Trial { step(step: 9999) { ${ERR} } } } }`, path: ['trial', 'step'] },
  'Trial.tensor → NotFoundError': {
    document: `{ trial(endpoint: "hooked") { ... on Trial { tensor(name: "no.such.tensor") { ${ERR} } } } }`,
    path: ['trial', 'tensor'],
  },
  'Trial.tensorNames → NotFoundError': {
    document: `{ trial(endpoint: "hooked") { ... on Trial { tensorNames(step: 9999) { ${ERR} } } } }`,
    path: ['trial', 'tensorNames'],
  },
  'Trial.tensorNames → ValidationError': {
    document: `{ trial(endpoint: "hooked") { ... on Trial { tensorNames(collection: "no-such-collection") { ${ERR} } } } }`,
    path: ['trial', 'tensorNames'],
  },
  'DebugTensor.value → NotFoundError': {
    document: `{ trial(endpoint: "hooked") { ... on Trial { tensor(name: "input") { ... on DebugTensor { value(step: 9999) { ${ERR} } } } } } }`,
    path: ['trial', 'tensor', 'value'],
  },
  'DebugTensor.reduction → NotFoundError': {
    document: `{ trial(endpoint: "hooked") { ... on Trial { tensor(name: "input") { ... on DebugTensor { reduction(step: 9999, kind: L2) { ${ERR} } } } } } }`,
    path: ['trial', 'tensor', 'reduction'],
  },
  'DebugStep.completeness → NotFoundError': {
    document: `query($step: Int!) { trial(endpoint: "partial") { ... on Trial { step(step: $step) { ... on DebugStep { completeness { ${ERR} } } } } } }`,
    variables: (fx) => ({ step: fx.partialStep }),
    path: ['trial', 'step', 'completeness'],
  },
  'DebugStep.saliency → NotFoundError': {
    document: `query($step: Int!) { trial(endpoint: "partial") { ... on Trial { step(step: $step) { ... on DebugStep { saliency { ${ERR} } } } } } }`,
    variables: (fx) => ({ step: fx.partialStep }),
    path: ['trial', 'step', 'saliency'],
  },
  'DebugStep.saliency → ValidationError': {
    document: `query($step: Int!) { trial(endpoint: "hooked") { ... on Trial { step(step: $step) { ... on DebugStep { saliency(size: 5) { ${ERR} } } } } } }`,
    variables: (fx) => ({ step: fx.hookedStep }),
    path: ['trial', 'step', 'saliency'],
  },
  'Capture.saliency → NotFoundError': {
    document: `query($id: ID!) { capture(id: $id) { saliency { ${ERR} } } }`,
    variables: (fx) => ({ id: fx.plainCapture }),
    path: ['capture', 'saliency'],
  },
  'Capture.saliency → ValidationError': {
    document: `query($id: ID!) { capture(id: $id) { saliency(opacity: 2) { ${ERR} } } }`,
    variables: (fx) => ({ id: fx.hookedCapture }),
    path: ['capture', 'saliency'],
  },
  'Query.saliency → NotFoundError': {
    document: `query($id: ID!) { saliency(captureId: $id) { ${ERR} } }`,
    variables: () => ({ id: UNKNOWN_ID }),
    path: ['saliency'],
  },
  // API keys. The conflict needs a key to exist, which ends anonymous access: the first alias creates
  // it, the second collides, and the undo removes the row (revoking would not reopen anonymous use).
  'Mutation.createApiKey → ValidationError': { document: `mutation { createApiKey(input: { name: "no spaces", role: READ }) { ${ERR} } }`, path: ['createApiKey'] },
  'Mutation.createApiKey → ConflictError': {
    document: `mutation { first: createApiKey(input: { name: "taken", role: READ }) { __typename } createApiKey(input: { name: "taken", role: READ }) { ${ERR} } }`,
    path: ['createApiKey'],
    arrange: async (server) => async () => {
      await server.app.database.prisma.apiKey.deleteMany();
      await server.app.services.apiKeys.reload();
    },
  },
  'Mutation.revokeApiKey → NotFoundError': { document: `mutation { revokeApiKey(name: "nope") { ${ERR} } }`, path: ['revokeApiKey'] },
  'Mutation.revokeApiKey → ValidationError': { document: `mutation { revokeApiKey(name: "env-1") { ${ERR} } }`, path: ['revokeApiKey'] },
  'Query.saliency → ValidationError': {
    document: `query($id: ID!) { saliency(captureId: $id, backgroundRadius: 0) { ${ERR} } }`,
    variables: (fx) => ({ id: fx.hookedCapture }),
    path: ['saliency'],
  },
};

function at(data: unknown, path: readonly (string | number)[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

describe('every error a result union declares is raisable by its field', () => {
  const server = useTestServer({ env: { SCHEDULER_INTERVAL_MS: '3600000' } });
  const fx = {} as Fixture;

  async function data(document: string, variables?: Record<string, unknown>) {
    return server.client.data(document, variables);
  }

  async function predict(endpoint: string) {
    const { predict: p } = await data(
      `mutation($endpoint: String!, $image: String!) {
        predict(endpoint: $endpoint, image: { base64: $image }) { __typename ... on Prediction { captureId debugStep } ... on VigilError { message } } }`,
      { endpoint, image: PNG },
    );
    if (p.__typename !== 'Prediction') throw new Error(`predict on ${endpoint}: ${JSON.stringify(p)}`);
    return p as { captureId: string; debugStep: number | null };
  }

  beforeAll(async () => {
    const create = (input: Record<string, unknown>) =>
      data(`mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { __typename } }`, { input });
    const capture = { enabled: true, samplingPercentage: 100 };
    await create({ name: 'plain', dataCapture: capture });
    await create({ name: 'hooked', dataCapture: capture, debugHook: { enabled: true, collections: ['fullgrad'] } });
    await create({ name: 'partial', dataCapture: capture, debugHook: { enabled: true, collections: ['biases'] } });

    fx.plainCapture = (await predict('plain')).captureId;
    await predict('plain');
    const hooked = await predict('hooked');
    fx.hookedCapture = hooked.captureId;
    fx.hookedStep = hooked.debugStep!;
    fx.partialStep = (await predict('partial')).debugStep!;
    expect(fx.hookedStep).not.toBeNull();
    expect(fx.partialStep).not.toBeNull();

    const { createBaseline } = await data(`mutation { createBaseline(input: { endpoint: "plain", name: "base" }) { __typename ... on VigilError { message } } }`);
    expect(createBaseline.__typename, JSON.stringify(createBaseline)).toBe('Baseline');
    const { createMonitoringSchedule } = await data(
      `mutation { createMonitoringSchedule(input: { name: "sched", endpoint: "plain", cron: "0 0 1 1 *", baseline: "base" }) { __typename ... on VigilError { message } } }`,
    );
    expect(createMonitoringSchedule.__typename, JSON.stringify(createMonitoringSchedule)).toBe('MonitoringSchedule');
  });

  it('has a case for every (field, error) pair the schema declares, and none for a pair it does not', () => {
    const declared = declaredErrorPairs(buildSchema());
    const cased = Object.keys(CASES).sort();
    const missing = declared.filter((p) => !cased.includes(p));
    const stale = cased.filter((p) => !declared.includes(p));
    expect(missing, `declared errors without a case proving they are raisable:\n  ${missing.join('\n  ')}`).toEqual([]);
    expect(stale, `cases for errors the schema no longer declares:\n  ${stale.join('\n  ')}`).toEqual([]);
  });

  for (const [pair, c] of Object.entries(CASES)) {
    const errorType = pair.split(' → ')[1]!;
    it(pair, async () => {
      const undo = await c.arrange?.(server);
      try {
        const result = await server.client.request(c.document, c.variables?.(fx));
        expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
        const value = at(result.data, c.path);
        expect(value, JSON.stringify(result.data)).toMatchObject({ __typename: errorType, code: CODES[errorType] });
      } finally {
        await undo?.();
      }
    });
  }
});
