/** External checks in GraphQL: a schedule's configuration (input and output) and each run's record. */
import { builder } from '../../../schema/builder.ts';
import {
  type EnvironmentVariable,
  EXTERNAL_CHECK_OUTPUTS,
  type ExternalCheckConfig,
  type ExternalCheckInput,
  MAX_ENVIRONMENT_VALUE_LENGTH,
  MAX_ENVIRONMENT_VARIABLES,
  MAX_EXTERNAL_CHECKS,
} from './config.ts';
import { EXTERNAL_CHECK_FAILURES, EXTERNAL_CHECK_STATUSES, type ExternalCheckRun } from './runner.ts';

const OutputEnum = builder.enumType('ExternalCheckOutput', {
  description:
    "How dataset_source writes each capture's endpointOutput.data: FULL, vigil's JSON output; CLASS, the write-up's `[[class]]`",
  values: EXTERNAL_CHECK_OUTPUTS,
});
const StatusEnum = builder.enumType('ExternalCheckStatus', { values: EXTERNAL_CHECK_STATUSES });
const FailureEnum = builder.enumType('ExternalCheckFailure', {
  description: 'Why an external check failed (its execution still completes)',
  values: EXTERNAL_CHECK_FAILURES,
});

const EnvironmentVariableRef = builder.objectRef<EnvironmentVariable>('EnvironmentVariable').implement({
  fields: (t) => ({ name: t.exposeString('name'), value: t.exposeString('value') }),
});

export const ExternalCheckRef = builder.objectRef<ExternalCheckConfig>('ExternalCheck').implement({
  description:
    "A script of the server's CHECKS_DIR, run per execution in Model Monitor's bring-your-own-container contract",
  fields: (t) => ({
    script: t.exposeString('script', { description: 'relative to CHECKS_DIR' }),
    environment: t.field({ type: [EnvironmentVariableRef], resolve: (c) => c.environment }),
    output: t.field({ type: OutputEnum, resolve: (c) => c.output }),
  }),
});

const EnvironmentVariableInput = builder.inputRef<EnvironmentVariable>('EnvironmentVariableInput').implement({
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'letters, digits and underscores; not PATH, HOME, LD_*, NODE_*, PYTHON*, … nor a contract variable',
    }),
    value: t.string({ required: true, description: `at most ${MAX_ENVIRONMENT_VALUE_LENGTH} characters` }),
  }),
});

export const ExternalCheckInputRef = builder.inputRef<ExternalCheckInput>('ExternalCheckInput').implement({
  description: `An external check (at most ${MAX_EXTERNAL_CHECKS} per schedule); needs the server's CHECKS_DIR`,
  fields: (t) => ({
    script: t.string({
      required: true,
      description: 'a file inside CHECKS_DIR, relative to it: .py runs with python3, .js/.mjs with node, else executed',
    }),
    environment: t.field({
      type: [EnvironmentVariableInput],
      description: `given to the script beside the contract's variables, at most ${MAX_ENVIRONMENT_VARIABLES}`,
    }),
    output: t.field({ type: OutputEnum, description: 'default FULL' }),
  }),
});

export const ExternalCheckRunRef = builder.objectRef<ExternalCheckRun>('ExternalCheckRun').implement({
  description:
    'One external check in one execution: PASSED, VIOLATIONS (listed among the execution’s, check EXTERNAL) or FAILED',
  fields: (t) => ({
    script: t.exposeString('script'),
    output: t.field({ type: OutputEnum, resolve: (r) => r.output }),
    status: t.field({ type: StatusEnum, resolve: (r) => r.status }),
    failure: t.field({ type: FailureEnum, nullable: true, resolve: (r) => r.failure }),
    message: t.exposeString('message', { description: 'one line: what happened' }),
    exitCode: t.exposeInt('exitCode', { nullable: true }),
    signal: t.exposeString('signal', {
      nullable: true,
      description: 'the signal that ended it (e.g. after a timeout)',
    }),
    stderrTail: t.exposeString('stderrTail', { description: 'the last 4 KiB of its stderr' }),
    violationCount: t.exposeInt('violationCount'),
    capturesWritten: t.exposeInt('capturesWritten', { description: 'captures written to dataset_source' }),
    capturesTruncated: t.exposeBoolean('capturesTruncated', {
      description: 'the window held more captures than EXTERNAL_CHECK_MAX_CAPTURES: the oldest were written',
    }),
    durationMs: t.exposeInt('durationMs'),
  }),
});
