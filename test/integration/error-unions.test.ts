/**
 * Every error a result union declares is one its field can raise. The test walks the built schema for
 * each field whose type (lists and non-null unwrapped) is a union with members implementing
 * `VigilError`, and holds a table with one case per (field, error) pair: an operation that provokes
 * that error through the real server, whose result at the field's path must be that error type with
 * its code. A declared pair without a case, or a case for a pair the schema no longer declares, fails:
 * an error type is added to a field only together with the proof that the field raises it.
 */
import { randomUUID } from 'node:crypto';
import { type GraphQLSchema, getNamedType, isObjectType, isUnionType } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql, type VariablesOf } from '../../src/graphql.ts';
import { buildSchema } from '../../src/schema/index.ts';
import { expectTypename, type GraphQLClient, type GraphQLResponse, type TypedDocument } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';
import { holdWriteLock } from '../helpers/write-lock.ts';

/** `Type.field → ErrorType` for every error member of every union a field returns */
function declaredErrorPairs(schema: GraphQLSchema): string[] {
  const pairs: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const result = getNamedType(field.type);
      if (!isUnionType(result)) continue;
      for (const member of result.getTypes()) {
        if (member.getInterfaces().some((i) => i.name === 'VigilError'))
          pairs.push(`${type.name}.${field.name} → ${member.name}`);
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
  UnavailableError: 'UNAVAILABLE',
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
  /** the baseline the schedule 'sched' compares with */
  baseline: string;
  /** an ad-hoc execution of the endpoint 'doomed' */
  orphanedExecution: string;
}

type Path = readonly (string | number)[];
/** puts the server in the state the error needs; returns what undoes it */
type Arrange = (server: TestServer) => Promise<() => Promise<void>>;

/** another connection holds the write lock beyond the server's lock timeout (DATABASE_LOCK_TIMEOUT_MS below) */
const databaseLocked: Arrange = (server) => holdWriteLock(server.database.url);

/**
 * 'doomed' as deleteEndpoint leaves it until the retention sweeper removes it (renamed, deletedAt set),
 * without the sweep, which would delete its executions too
 */
const endpointDeleted: Arrange = async (server) => {
  const { endpoint } = server.app.database.prisma;
  await endpoint.update({ where: { name: 'doomed' }, data: { name: 'deleted:doomed', deletedAt: new Date() } });
  return async () => {
    await endpoint.update({ where: { name: 'deleted:doomed' }, data: { name: 'doomed', deletedAt: null } });
  };
};

interface Case {
  /** sends the operation that provokes the error, its variables made from what the setup made */
  send: (client: GraphQLClient, fx: Fixture) => Promise<GraphQLResponse<unknown>>;
  /** where the field's value is in `data`; a number indexes a list */
  path: Path;
  arrange?: Arrange | undefined;
}

/** the variables of a document that declares none */
type NoVariables = Record<string, never>;

/** a case whose document declares no variables */
function errorCase<R, V extends NoVariables>(
  document: TypedDocument<R, V>,
  path: Path,
  options?: { arrange?: Arrange },
): Case;
/** a case whose document's variables are made from what the setup made */
function errorCase<R, V>(
  document: TypedDocument<R, V>,
  path: Path,
  options: { variables: (fx: Fixture) => V; arrange?: Arrange },
): Case;
function errorCase(
  document: TypedDocument<unknown, Record<string, unknown>>,
  path: Path,
  options: { variables?: (fx: Fixture) => Record<string, unknown>; arrange?: Arrange } = {},
): Case {
  return { send: (client, fx) => client.request(document, options.variables?.(fx)), path, arrange: options.arrange };
}

/** what each case selects at its field beside `__typename` (a fragment on the interface: valid in every union) */
const ERROR = graphql(`fragment CaseError on VigilError { code message }`);
const PNG = fixture('stop_like_octagon.png').toString('base64');
const NOT_AN_IMAGE = Buffer.from('not an image').toString('base64');
const UNKNOWN_ID = randomUUID();

/** One case per (field, error) pair the schema declares: keys are `Type.field → ErrorType`. */
const CASES: Record<string, Case> = {
  // endpoints
  'Mutation.createEndpoint → ConflictError': errorCase(
    graphql(`mutation CreateTakenEndpoint { createEndpoint(input: { name: "plain" }) { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['createEndpoint'],
  ),
  'Mutation.createEndpoint → NotFoundError': errorCase(
    graphql(
      `mutation CreateEndpointOfUnknownModel {
        createEndpoint(input: { name: "other", model: "no-such-model" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createEndpoint'],
  ),
  'Mutation.createEndpoint → ValidationError': errorCase(
    graphql(`mutation CreateInvalidEndpoint { createEndpoint(input: { name: "-bad-" }) { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['createEndpoint'],
  ),
  'Mutation.updateEndpoint → NotFoundError': errorCase(
    graphql(`mutation UpdateUnknownEndpoint { updateEndpoint(name: "nope", input: {}) { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['updateEndpoint'],
  ),
  'Mutation.updateEndpoint → ValidationError': errorCase(
    graphql(
      `mutation UpdateEndpointInvalidly {
        updateEndpoint(name: "plain", input: { dataCapture: { samplingPercentage: 200 } }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['updateEndpoint'],
  ),
  'Mutation.deleteEndpoint → NotFoundError': errorCase(
    graphql(`mutation DeleteUnknownEndpoint { deleteEndpoint(name: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['deleteEndpoint'],
  ),
  'Query.storage → NotFoundError': errorCase(
    graphql(`query StorageOfUnknownEndpoint { storage(endpoint: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['storage'],
  ),

  // inference
  'Mutation.predict → InvalidImageError': errorCase(
    graphql(
      `mutation PredictNotAnImage($image: String!) {
        predict(endpoint: "plain", image: { base64: $image }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predict'],
    { variables: () => ({ image: NOT_AN_IMAGE }) },
  ),
  'Mutation.predict → NotFoundError': errorCase(
    graphql(
      `mutation PredictOnUnknownEndpoint($image: String!) {
        predict(endpoint: "nope", image: { base64: $image }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predict'],
    { variables: () => ({ image: PNG }) },
  ),
  'Mutation.predict → ValidationError': errorCase(
    graphql(
      `mutation PredictTopZero($image: String!) {
        predict(endpoint: "plain", image: { base64: $image }, topK: 0) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predict'],
    { variables: () => ({ image: PNG }) },
  ),
  'Mutation.predict → UnavailableError': errorCase(
    graphql(
      `mutation PredictWhileLocked($image: String!) {
        predict(endpoint: "plain", image: { base64: $image }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predict'],
    { variables: () => ({ image: PNG }), arrange: databaseLocked },
  ),
  // explanations of uploaded images
  'Query.explain → InvalidImageError': errorCase(
    graphql(
      `query ExplainNotAnImage($image: String!) {
        explain(image: { base64: $image }, model: "gtsrb-resnet18") { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['explain'],
    { variables: () => ({ image: NOT_AN_IMAGE }) },
  ),
  'Query.explain → NotFoundError': errorCase(
    graphql(
      `query ExplainOnUnknownEndpoint($image: String!) {
        explain(image: { base64: $image }, endpoint: "nope") { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['explain'],
    { variables: () => ({ image: PNG }) },
  ),
  'Query.explain → ValidationError': errorCase(
    graphql(
      `query ExplainUnknownClass($image: String!) {
        explain(image: { base64: $image }, model: "gtsrb-resnet18", classId: -1) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['explain'],
    { variables: () => ({ image: PNG }) },
  ),
  // figures
  'Query.predictionGrid → NotFoundError': errorCase(
    graphql(
      `query GridOfUnknownCapture($id: ID!) {
        predictionGrid(captureIds: [$id]) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predictionGrid'],
    { variables: () => ({ id: UNKNOWN_ID }) },
  ),
  'Query.predictionGrid → ValidationError': errorCase(
    graphql(
      `query GridOfNineColumns($id: ID!) {
        predictionGrid(captureIds: [$id], columns: 9) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predictionGrid'],
    { variables: (fx) => ({ id: fx.plainCapture }) },
  ),
  'Query.saliencyComparison → InvalidImageError': errorCase(
    graphql(
      `query CompareNotAnImage($id: ID!, $image: String!) {
        saliencyComparison(left: { captureId: $id }, right: { image: { base64: $image } }, model: "gtsrb-resnet18") {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['saliencyComparison'],
    { variables: (fx) => ({ id: fx.hookedCapture, image: NOT_AN_IMAGE }) },
  ),
  'Query.saliencyComparison → NotFoundError': errorCase(
    graphql(
      `query CompareUnhookedCapture($plain: ID!, $hooked: ID!) {
        saliencyComparison(left: { captureId: $plain }, right: { captureId: $hooked }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['saliencyComparison'],
    { variables: (fx) => ({ plain: fx.plainCapture, hooked: fx.hookedCapture }) },
  ),
  'Query.saliencyComparison → ValidationError': errorCase(
    graphql(
      `query CompareSideWithBoth($id: ID!, $image: String!) {
        saliencyComparison(left: { captureId: $id, image: { base64: $image } }, right: { captureId: $id }, model: "gtsrb-resnet18") {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['saliencyComparison'],
    { variables: (fx) => ({ id: fx.hookedCapture, image: PNG }) },
  ),
  // attacks
  'Mutation.createAdversarial → InvalidImageError': errorCase(
    graphql(
      `mutation AttackNotAnImage($image: String!) {
        createAdversarial(input: { image: { base64: $image }, target: 14, endpoint: "plain" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createAdversarial'],
    { variables: () => ({ image: NOT_AN_IMAGE }) },
  ),
  'Mutation.createAdversarial → NotFoundError': errorCase(
    graphql(
      `mutation AttackOnUnknownEndpoint($image: String!) {
        createAdversarial(input: { image: { base64: $image }, target: 14, endpoint: "nope" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createAdversarial'],
    { variables: () => ({ image: PNG }) },
  ),
  'Mutation.createAdversarial → ValidationError': errorCase(
    graphql(
      `mutation AttackUnknownClass($image: String!) {
        createAdversarial(input: { image: { base64: $image }, target: 43, endpoint: "plain" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createAdversarial'],
    { variables: () => ({ image: PNG }) },
  ),
  'Mutation.createAdversarial → UnavailableError': errorCase(
    graphql(
      `mutation AttackWhileLocked($image: String!) {
        createAdversarial(input: { image: { base64: $image }, target: 14, model: "gtsrb-resnet18", method: FGSM }) {
          __typename
          ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['createAdversarial'],
    { variables: () => ({ image: PNG }), arrange: databaseLocked },
  ),
  'Mutation.predictBatch → UnavailableError': errorCase(
    graphql(
      `mutation PredictBatchWhileLocked($image: String!) {
        predictBatch(endpoint: "plain", images: [{ base64: $image }, { base64: $image }]) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predictBatch'],
    { variables: () => ({ image: PNG }), arrange: databaseLocked },
  ),
  'Mutation.predictBatch → NotFoundError': errorCase(
    graphql(
      `mutation PredictBatchOnUnknownEndpoint($image: String!) {
        predictBatch(endpoint: "nope", images: [{ base64: $image }]) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['predictBatch'],
    { variables: () => ({ image: PNG }) },
  ),
  'Mutation.predictBatch → ValidationError': errorCase(
    graphql(`mutation PredictEmptyBatch { predictBatch(endpoint: "plain", images: []) { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['predictBatch'],
  ),
  // ground truth
  'Mutation.putGroundTruth → ValidationError': errorCase(
    graphql(`mutation PutNoGroundTruth { putGroundTruth(input: []) { __typename ...CaseError } }`, [ERROR]),
    ['putGroundTruth'],
  ),
  'GroundTruthBatch.items → NotFoundError': errorCase(
    graphql(
      `mutation PutGroundTruthOfUnknownCapture($id: ID!) {
        putGroundTruth(input: [{ capture: { captureId: $id }, label: "14" }]) {
          ... on GroundTruthBatch { items { __typename ...CaseError } }
        }
      }`,
      [ERROR],
    ),
    ['putGroundTruth', 'items', 0],
    { variables: () => ({ id: UNKNOWN_ID }) },
  ),
  'GroundTruthBatch.items → ValidationError': errorCase(
    graphql(
      `mutation PutGroundTruthOfUnknownClass($id: ID!) {
        putGroundTruth(input: [{ capture: { captureId: $id }, label: "999" }]) {
          ... on GroundTruthBatch { items { __typename ...CaseError } }
        }
      }`,
      [ERROR],
    ),
    ['putGroundTruth', 'items', 0],
    { variables: (fx) => ({ id: fx.plainCapture }) },
  ),
  'PredictBatch.predictions → InvalidImageError': errorCase(
    graphql(
      `mutation PredictBatchWithNotAnImage($good: String!, $bad: String!) {
        predictBatch(endpoint: "plain", images: [{ base64: $good }, { base64: $bad }]) {
          ... on PredictBatch { predictions { __typename ...CaseError } }
        }
      }`,
      [ERROR],
    ),
    ['predictBatch', 'predictions', 1],
    { variables: () => ({ good: PNG, bad: NOT_AN_IMAGE }) },
  ),

  // captures
  'Query.captures → NotFoundError': errorCase(
    graphql(`query CapturesOfUnknownEndpoint { captures(endpoint: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['captures'],
  ),
  'Query.captures → ValidationError': errorCase(
    graphql(`query CapturesFirstZero { captures(endpoint: "plain", first: 0) { __typename ...CaseError } }`, [ERROR]),
    ['captures'],
  ),

  // monitor
  'Query.baselines → NotFoundError': errorCase(
    graphql(`query BaselinesOfUnknownEndpoint { baselines(endpoint: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['baselines'],
  ),
  'Query.monitoringSchedules → NotFoundError': errorCase(
    graphql(`query SchedulesOfUnknownEndpoint { monitoringSchedules(endpoint: "nope") { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['monitoringSchedules'],
  ),
  'Query.monitoringExecutions → NotFoundError': errorCase(
    graphql(
      `query ExecutionsOfUnknownSchedule { monitoringExecutions(schedule: "nope") { __typename ...CaseError } }`,
      [ERROR],
    ),
    ['monitoringExecutions'],
  ),
  'Query.monitoringExecutions → ValidationError': errorCase(
    graphql(
      `query ExecutionsFirstZero { monitoringExecutions(schedule: "sched", first: 0) { __typename ...CaseError } }`,
      [ERROR],
    ),
    ['monitoringExecutions'],
  ),
  'MonitoringSchedule.executions → ValidationError': errorCase(
    graphql(
      `query ScheduleExecutionsFirstZero {
        monitoringSchedule(name: "sched") { executions(first: 0) { __typename ...CaseError } }
      }`,
      [ERROR],
    ),
    ['monitoringSchedule', 'executions'],
  ),
  'Query.metrics → NotFoundError': errorCase(
    graphql(
      `query MetricsOfUnknownSchedule { metrics(schedule: "nope", name: "record_count") { __typename ...CaseError } }`,
      [ERROR],
    ),
    ['metrics'],
  ),
  'Query.cronExpression → ValidationError': errorCase(
    graphql(`query CronWithoutHours { cronExpression(kind: EVERY_N_HOURS) { __typename ...CaseError } }`, [ERROR]),
    ['cronExpression'],
  ),
  'CronExpression.nextRuns → ValidationError': errorCase(
    graphql(
      `query CronNextRunsZero {
        cronExpression(kind: HOURLY) { ... on CronExpression { nextRuns(count: 0) { __typename ...CaseError } } }
      }`,
      [ERROR],
    ),
    ['cronExpression', 'nextRuns'],
  ),
  'Mutation.createBaseline → ConflictError': errorCase(
    graphql(
      `mutation CreateTakenBaseline {
        createBaseline(input: { endpoint: "plain", name: "base" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createBaseline'],
  ),
  'Mutation.createBaseline → NotFoundError': errorCase(
    graphql(
      `mutation CreateBaselineOfUnknownEndpoint {
        createBaseline(input: { endpoint: "nope", name: "base" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createBaseline'],
  ),
  'Mutation.createBaseline → ValidationError': errorCase(
    graphql(
      `mutation CreateInvalidBaseline {
        createBaseline(input: { endpoint: "plain", name: "base2", categoricalThreshold: 2 }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createBaseline'],
  ),
  'Mutation.deleteBaseline → NotFoundError': errorCase(
    graphql(`mutation DeleteUnknownBaseline($id: ID!) { deleteBaseline(id: $id) { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['deleteBaseline'],
    { variables: () => ({ id: UNKNOWN_ID }) },
  ),
  'Mutation.createMonitoringSchedule → ConflictError': errorCase(
    graphql(
      `mutation CreateTakenSchedule {
        createMonitoringSchedule(input: { name: "sched", endpoint: "plain", cron: "0 0 1 1 *" }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['createMonitoringSchedule'],
  ),
  'Mutation.createMonitoringSchedule → NotFoundError': errorCase(
    graphql(
      `mutation CreateScheduleOfUnknownBaseline {
        createMonitoringSchedule(input: { name: "other", endpoint: "plain", cron: "0 0 1 1 *", baseline: "nope" }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['createMonitoringSchedule'],
  ),
  'Mutation.createMonitoringSchedule → ValidationError': errorCase(
    graphql(
      `mutation CreateInvalidSchedule {
        createMonitoringSchedule(input: { name: "other", endpoint: "plain", cron: "not a cron" }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['createMonitoringSchedule'],
  ),
  'Mutation.updateMonitoringSchedule → NotFoundError': errorCase(
    graphql(
      `mutation UpdateUnknownSchedule { updateMonitoringSchedule(name: "nope", input: {}) { __typename ...CaseError } }`,
      [ERROR],
    ),
    ['updateMonitoringSchedule'],
  ),
  'Mutation.updateMonitoringSchedule → ValidationError': errorCase(
    graphql(
      `mutation UpdateScheduleInvalidly {
        updateMonitoringSchedule(name: "sched", input: { cron: "61 * * * *" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['updateMonitoringSchedule'],
  ),
  'Mutation.deleteMonitoringSchedule → NotFoundError': errorCase(
    graphql(`mutation DeleteUnknownSchedule { deleteMonitoringSchedule(name: "nope") { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['deleteMonitoringSchedule'],
  ),
  'Mutation.runMonitoringSchedule → NotFoundError': errorCase(
    graphql(`mutation RunUnknownSchedule { runMonitoringSchedule(name: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['runMonitoringSchedule'],
  ),
  'Mutation.runMonitoringSchedule → ConflictError': errorCase(
    // another replica holds the schedule's lease: the manual run waits for it (10 s), then gives up
    graphql(`mutation RunLeasedSchedule { runMonitoringSchedule(name: "sched") { __typename ...CaseError } }`, [ERROR]),
    ['runMonitoringSchedule'],
    {
      arrange: async (server) => {
        const { monitoringSchedule } = server.app.database.prisma;
        await monitoringSchedule.update({
          where: { name: 'sched' },
          data: { leaseOwner: 'another-replica', leaseExpiresAt: new Date(Date.now() + 5 * 60_000) },
        });
        return async () => {
          await monitoringSchedule.update({
            where: { name: 'sched' },
            data: { leaseOwner: null, leaseExpiresAt: null },
          });
        };
      },
    },
  ),

  'Mutation.deleteBaseline → ConflictError': errorCase(
    // the schedule 'sched' compares with it
    graphql(`mutation DeleteBaselineInUse($id: ID!) { deleteBaseline(id: $id) { __typename ...CaseError } }`, [ERROR]),
    ['deleteBaseline'],
    { variables: (fx) => ({ id: fx.baseline }) },
  ),
  'Mutation.replaceBaselineConstraints → NotFoundError': errorCase(
    graphql(
      `mutation ReplaceConstraintsOfUnknownBaseline($id: ID!) {
        replaceBaselineConstraints(id: $id, constraints: { monitoring_config: { distribution_constraints: {
          perform_comparison: "Enabled", comparison_threshold: 0.1, categorical_comparison_threshold: 0.1,
          categorical_drift_method: "LInfinity" } } }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['replaceBaselineConstraints'],
    { variables: () => ({ id: UNKNOWN_ID }) },
  ),
  'Mutation.replaceBaselineConstraints → ValidationError': errorCase(
    graphql(
      `mutation ReplaceConstraintsInvalidly($id: ID!) {
        replaceBaselineConstraints(id: $id, constraints: { monitoring_config: {} }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['replaceBaselineConstraints'],
    { variables: (fx) => ({ id: fx.baseline }) },
  ),
  'Mutation.pauseMonitoringSchedule → NotFoundError': errorCase(
    graphql(`mutation PauseUnknownSchedule { pauseMonitoringSchedule(name: "nope") { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['pauseMonitoringSchedule'],
  ),
  'Mutation.resumeMonitoringSchedule → NotFoundError': errorCase(
    graphql(`mutation ResumeUnknownSchedule { resumeMonitoringSchedule(name: "nope") { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['resumeMonitoringSchedule'],
  ),
  'Mutation.runMonitoringJob → NotFoundError': errorCase(
    graphql(
      `mutation RunJobOnUnknownEndpoint {
        runMonitoringJob(input: { endpoint: "nope", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['runMonitoringJob'],
  ),
  'Mutation.runMonitoringJob → ValidationError': errorCase(
    graphql(
      `mutation RunJobBackwards {
        runMonitoringJob(input: { endpoint: "plain", from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['runMonitoringJob'],
  ),
  'MonitoringExecution.captures → NotFoundError': errorCase(
    // its endpoint was deleted after it ran
    graphql(
      `query CapturesOfOrphanedExecution($id: ID!) {
        monitoringExecution(id: $id) { captures { __typename ...CaseError } }
      }`,
      [ERROR],
    ),
    ['monitoringExecution', 'captures'],
    { variables: (fx) => ({ id: fx.orphanedExecution }), arrange: endpointDeleted },
  ),
  'MonitoringExecution.captures → ValidationError': errorCase(
    graphql(
      `query ExecutionCapturesFirstZero($id: ID!) {
        monitoringExecution(id: $id) { captures(first: 0) { __typename ...CaseError } }
      }`,
      [ERROR],
    ),
    ['monitoringExecution', 'captures'],
    { variables: (fx) => ({ id: fx.orphanedExecution }) },
  ),

  // debugger
  'Query.trial → NotFoundError': errorCase(
    graphql(`query TrialOfUnknownEndpoint { trial(endpoint: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['trial'],
  ),
  'Trial.step → NotFoundError': errorCase(
    graphql(
      `query UnknownTrialStep {
        trial(endpoint: "hooked") { ... on Trial { step(step: 9999) { __typename ...CaseError } } }
      }`,
      [ERROR],
    ),
    ['trial', 'step'],
  ),
  'Trial.tensor → NotFoundError': errorCase(
    graphql(
      `query UnknownTrialTensor {
        trial(endpoint: "hooked") { ... on Trial { tensor(name: "no.such.tensor") { __typename ...CaseError } } }
      }`,
      [ERROR],
    ),
    ['trial', 'tensor'],
  ),
  'Trial.tensorNames → NotFoundError': errorCase(
    graphql(
      `query TensorNamesOfUnknownStep {
        trial(endpoint: "hooked") { ... on Trial { tensorNames(step: 9999) { __typename ...CaseError } } }
      }`,
      [ERROR],
    ),
    ['trial', 'tensorNames'],
  ),
  'Trial.tensorNames → ValidationError': errorCase(
    graphql(
      `query TensorNamesOfUnknownCollection {
        trial(endpoint: "hooked") {
          ... on Trial { tensorNames(collection: "no-such-collection") { __typename ...CaseError } }
        }
      }`,
      [ERROR],
    ),
    ['trial', 'tensorNames'],
  ),
  'DebugTensor.value → NotFoundError': errorCase(
    graphql(
      `query TensorValueOfUnknownStep {
        trial(endpoint: "hooked") {
          ... on Trial { tensor(name: "input") { ... on DebugTensor { value(step: 9999) { __typename ...CaseError } } } }
        }
      }`,
      [ERROR],
    ),
    ['trial', 'tensor', 'value'],
  ),
  'DebugTensor.reduction → NotFoundError': errorCase(
    graphql(
      `query TensorReductionOfUnknownStep {
        trial(endpoint: "hooked") {
          ... on Trial {
            tensor(name: "input") { ... on DebugTensor { reduction(step: 9999, kind: L2) { __typename ...CaseError } } }
          }
        }
      }`,
      [ERROR],
    ),
    ['trial', 'tensor', 'reduction'],
  ),
  'DebugStep.completeness → NotFoundError': errorCase(
    graphql(
      `query CompletenessWithoutTensors($step: Int!) {
        trial(endpoint: "partial") {
          ... on Trial { step(step: $step) { ... on DebugStep { completeness { __typename ...CaseError } } } }
        }
      }`,
      [ERROR],
    ),
    ['trial', 'step', 'completeness'],
    { variables: (fx) => ({ step: fx.partialStep }) },
  ),
  'DebugStep.saliency → NotFoundError': errorCase(
    graphql(
      `query StepSaliencyWithoutTensors($step: Int!) {
        trial(endpoint: "partial") {
          ... on Trial { step(step: $step) { ... on DebugStep { saliency { __typename ...CaseError } } } }
        }
      }`,
      [ERROR],
    ),
    ['trial', 'step', 'saliency'],
    { variables: (fx) => ({ step: fx.partialStep }) },
  ),
  'DebugStep.saliency → ValidationError': errorCase(
    graphql(
      `query StepSaliencyTooSmall($step: Int!) {
        trial(endpoint: "hooked") {
          ... on Trial { step(step: $step) { ... on DebugStep { saliency(size: 5) { __typename ...CaseError } } } }
        }
      }`,
      [ERROR],
    ),
    ['trial', 'step', 'saliency'],
    { variables: (fx) => ({ step: fx.hookedStep }) },
  ),
  'Capture.saliency → NotFoundError': errorCase(
    graphql(
      `query CaptureSaliencyWithoutHook($id: ID!) { capture(id: $id) { saliency { __typename ...CaseError } } }`,
      [ERROR],
    ),
    ['capture', 'saliency'],
    { variables: (fx) => ({ id: fx.plainCapture }) },
  ),
  'Capture.saliency → ValidationError': errorCase(
    graphql(
      `query CaptureSaliencyTooOpaque($id: ID!) {
        capture(id: $id) { saliency(opacity: 2) { __typename ...CaseError } }
      }`,
      [ERROR],
    ),
    ['capture', 'saliency'],
    { variables: (fx) => ({ id: fx.hookedCapture }) },
  ),
  'Query.saliency → NotFoundError': errorCase(
    graphql(`query SaliencyOfUnknownCapture($id: ID!) { saliency(captureId: $id) { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['saliency'],
    { variables: () => ({ id: UNKNOWN_ID }) },
  ),
  'Query.saliency → ValidationError': errorCase(
    graphql(
      `query SaliencyWithoutBackground($id: ID!) {
        saliency(captureId: $id, backgroundRadius: 0) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['saliency'],
    { variables: (fx) => ({ id: fx.hookedCapture }) },
  ),
  // API keys. The conflict needs a key to exist, which ends anonymous access: the first alias creates
  // it, the second collides, and the undo removes the row (revoking would not reopen anonymous use).
  'Mutation.createApiKey → ValidationError': errorCase(
    graphql(
      `mutation CreateApiKeyWithSpaces { createApiKey(input: { name: "no spaces", role: READ }) { __typename ...CaseError } }`,
      [ERROR],
    ),
    ['createApiKey'],
  ),
  'Mutation.createApiKey → ConflictError': errorCase(
    graphql(
      `mutation CreateTakenApiKey {
        first: createApiKey(input: { name: "taken", role: READ }) { __typename }
        createApiKey(input: { name: "taken", role: READ }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['createApiKey'],
    {
      arrange: async (server) => async () => {
        await server.app.database.prisma.apiKey.deleteMany();
        await server.app.services.apiKeys.reload();
      },
    },
  ),
  'Mutation.revokeApiKey → NotFoundError': errorCase(
    graphql(`mutation RevokeUnknownApiKey { revokeApiKey(name: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['revokeApiKey'],
  ),
  'Mutation.revokeApiKey → ValidationError': errorCase(
    graphql(`mutation RevokeEnvironmentApiKey { revokeApiKey(name: "env-1") { __typename ...CaseError } }`, [ERROR]),
    ['revokeApiKey'],
  ),

  // alert channels
  'Mutation.createAlertChannel → ValidationError': errorCase(
    graphql(
      `mutation CreateAlertChannelToMetadata {
        createAlertChannel(input: { name: "meta", kind: WEBHOOK, url: "http://169.254.169.254/", secret: "0123456789abcdef" }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['createAlertChannel'],
  ),
  'Mutation.createAlertChannel → NotFoundError': errorCase(
    graphql(
      `mutation CreateAlertChannelOfUnknownEndpoint {
        createAlertChannel(input: { name: "ghostly", kind: WEBHOOK, url: "http://127.0.0.1:9/", secret: "0123456789abcdef", endpoints: ["ghost"] }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['createAlertChannel'],
  ),
  'Mutation.createAlertChannel → ConflictError': errorCase(
    graphql(
      `mutation CreateTakenAlertChannel {
        first: createAlertChannel(input: { name: "twice", kind: SLACK, url: "http://127.0.0.1:9/", secret: "0123456789abcdef" }) { __typename }
        createAlertChannel(input: { name: "twice", kind: SLACK, url: "http://127.0.0.1:9/", secret: "0123456789abcdef" }) {
          __typename ...CaseError
        }
      }`,
      [ERROR],
    ),
    ['createAlertChannel'],
  ),
  'Mutation.updateAlertChannel → ValidationError': errorCase(
    graphql(
      `mutation UpdateAlertChannelWithShortSecret {
        updateAlertChannel(name: "pager", input: { secret: "short" }) { __typename ...CaseError }
      }`,
      [ERROR],
    ),
    ['updateAlertChannel'],
  ),
  'Mutation.updateAlertChannel → NotFoundError': errorCase(
    graphql(
      `mutation UpdateUnknownAlertChannel { updateAlertChannel(name: "nope", input: {}) { __typename ...CaseError } }`,
      [ERROR],
    ),
    ['updateAlertChannel'],
  ),
  'Mutation.deleteAlertChannel → NotFoundError': errorCase(
    graphql(`mutation DeleteUnknownAlertChannel { deleteAlertChannel(name: "nope") { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['deleteAlertChannel'],
  ),
  'Mutation.testAlertChannel → NotFoundError': errorCase(
    graphql(`mutation TestUnknownAlertChannel { testAlertChannel(name: "nope") { __typename ...CaseError } }`, [ERROR]),
    ['testAlertChannel'],
  ),
  'Query.alertDeliveries → NotFoundError': errorCase(
    graphql(`query DeliveriesOfUnknownChannel { alertDeliveries(channel: "nope") { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['alertDeliveries'],
  ),
  'Query.alertDeliveries → ValidationError': errorCase(
    graphql(`query TooManyDeliveries { alertDeliveries(channel: "pager", first: 501) { __typename ...CaseError } }`, [
      ERROR,
    ]),
    ['alertDeliveries'],
  ),
};

// the setup's documents
const CREATE_ENDPOINT = graphql(`
  mutation CreateEndpoint($input: CreateEndpointInput!) { createEndpoint(input: $input) { __typename } }
`);
const PREDICT = graphql(`
  mutation Predict($endpoint: String!, $image: String!) {
    predict(endpoint: $endpoint, image: { base64: $image }) {
      __typename
      ... on Prediction { captureId debugStep }
      ... on VigilError { message }
    }
  }
`);
const CREATE_BASELINE = graphql(`
  mutation CreateBaseline {
    createBaseline(input: { endpoint: "plain", name: "base" }) { __typename ... on Baseline { id } ... on VigilError { message } }
  }
`);
const RUN_DOOMED_JOB = graphql(`
  mutation RunDoomedJob($from: DateTime!, $to: DateTime!) {
    runMonitoringJob(input: { endpoint: "doomed", from: $from, to: $to }) { __typename ... on MonitoringExecution { id } }
  }
`);
const CREATE_CHANNEL = graphql(`
  mutation CreateChannel {
    createAlertChannel(input: { name: "pager", kind: WEBHOOK, url: "http://127.0.0.1:9/", secret: "0123456789abcdef" }) {
      __typename
      ... on VigilError { message }
    }
  }
`);
const CREATE_SCHEDULE = graphql(`
  mutation CreateSchedule {
    createMonitoringSchedule(input: { name: "sched", endpoint: "plain", cron: "0 0 1 1 *", baseline: "base" }) {
      __typename
      ... on VigilError { message }
    }
  }
`);

function at(data: unknown, path: readonly (string | number)[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

describe('every error a result union declares is raisable by its field', () => {
  const server = useTestServer({
    env: { SCHEDULER_INTERVAL_MS: '3600000', DATABASE_LOCK_TIMEOUT_MS: '500', ALERT_URL_ALLOWLIST: '127.0.0.1' },
  });
  /** set by beforeAll, read by the cases' variables */
  let fx: Fixture;

  async function predict(endpoint: string) {
    const { predict: p } = await server.client.data(PREDICT, { endpoint, image: PNG });
    expectTypename(p, 'Prediction');
    return p;
  }

  /** a capture's id, failing when the request was not captured */
  function captured(prediction: { captureId: string | null }): string {
    expect(prediction.captureId).not.toBeNull();
    return prediction.captureId ?? '';
  }

  /** a step's number, failing when the hook did not save the request */
  function saved(prediction: { debugStep: number | null }): number {
    expect(prediction.debugStep).not.toBeNull();
    return prediction.debugStep ?? Number.NaN;
  }

  beforeAll(async () => {
    const create = (input: VariablesOf<typeof CREATE_ENDPOINT>['input']) =>
      server.client.data(CREATE_ENDPOINT, { input });
    const capture = { enabled: true, samplingPercentage: 100 };
    await create({ name: 'plain', dataCapture: capture });
    await create({ name: 'hooked', dataCapture: capture, debugHook: { enabled: true, collections: ['fullgrad'] } });
    await create({ name: 'partial', dataCapture: capture, debugHook: { enabled: true, collections: ['biases'] } });

    const plain = await predict('plain');
    await predict('plain');
    const hooked = await predict('hooked');
    const partial = await predict('partial');
    fx = {
      plainCapture: captured(plain),
      hookedCapture: captured(hooked),
      hookedStep: saved(hooked),
      partialStep: saved(partial),
      baseline: '',
      orphanedExecution: '',
    };

    const { createBaseline } = await server.client.data(CREATE_BASELINE);
    expect(createBaseline.__typename, JSON.stringify(createBaseline)).toBe('Baseline');
    expectTypename(createBaseline, 'Baseline');
    fx.baseline = createBaseline.id;
    const { createMonitoringSchedule } = await server.client.data(CREATE_SCHEDULE);
    expect(createMonitoringSchedule.__typename, JSON.stringify(createMonitoringSchedule)).toBe('MonitoringSchedule');
    const { createAlertChannel } = await server.client.data(CREATE_CHANNEL);
    expect(createAlertChannel.__typename, JSON.stringify(createAlertChannel)).toBe('AlertChannel');

    await create({ name: 'doomed', dataCapture: capture });
    const { runMonitoringJob } = await server.client.data(RUN_DOOMED_JOB, {
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date().toISOString(),
    });
    expectTypename(runMonitoringJob, 'MonitoringExecution');
    fx.orphanedExecution = runMonitoringJob.id;
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
        const result = await c.send(server.client, fx);
        expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
        const value = at(result.data, c.path);
        expect(value, JSON.stringify(result.data)).toMatchObject({ __typename: errorType, code: CODES[errorType] });
      } finally {
        await undo?.();
      }
    });
  }
});
