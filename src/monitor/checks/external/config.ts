/**
 * An external check's configuration (a schedule's `checks.external`): which script of CHECKS_DIR, the
 * environment it gets beside Model Monitor's contract variables, and how the captures' output is
 * written. The shape is validated here (limits, names); whether the script exists inside CHECKS_DIR is
 * the runner's question (runner.ts), asked when the schedule is saved and again at each run.
 */
import { ValidationError } from '../../../errors.ts';

/** FULL: endpointOutput.data is vigil's JSON output; CLASS: the write-up's `[[class]]` */
export const EXTERNAL_CHECK_OUTPUTS = ['FULL', 'CLASS'] as const;
export type ExternalCheckOutput = (typeof EXTERNAL_CHECK_OUTPUTS)[number];

export interface EnvironmentVariable {
  name: string;
  value: string;
}

export interface ExternalCheckConfig {
  /** a path relative to CHECKS_DIR */
  script: string;
  /** given to the script beside the contract's variables */
  environment: EnvironmentVariable[];
  output: ExternalCheckOutput;
}

/** what a client sends: environment and output may be left out */
export interface ExternalCheckInput {
  script: string;
  environment?: EnvironmentVariable[] | null;
  output?: ExternalCheckOutput | null;
}

/** external checks per schedule (they run one after the other, each up to its time limit) */
export const MAX_EXTERNAL_CHECKS = 8;
export const MAX_SCRIPT_PATH_LENGTH = 512;
export const MAX_ENVIRONMENT_VARIABLES = 64;
export const MAX_ENVIRONMENT_NAME_LENGTH = 128;
export const MAX_ENVIRONMENT_VALUE_LENGTH = 4096;
/** names and values of one check's environment together, in UTF-16 code units */
export const MAX_ENVIRONMENT_TOTAL = 32 * 1024;

/** the variables of Model Monitor's bring-your-own-container contract, which vigil sets (environment.ts) */
export const CONTRACT_VARIABLES = [
  'dataset_source',
  'output_path',
  'start_time',
  'end_time',
  'sagemaker_endpoint_name',
  'sagemaker_monitoring_schedule_name',
  'dataset_format',
  'publish_cloudwatch_metrics',
  'baseline_statistics',
  'baseline_constraints',
] as const;

/**
 * Names a schedule may not set (compared upper-cased): the ones that change which code the interpreter
 * or the dynamic loader runs (a preloaded library, NODE_OPTIONS' --import, a Python path), where the
 * process looks for programs and files, and the contract's own. The scripts of CHECKS_DIR are the only
 * code an external check runs.
 */
const RESERVED_PREFIXES = ['LD_', 'DYLD_', 'NODE_', 'NPM_', 'PYTHON', 'BASH_', 'PERL', 'RUBY', 'GCONV', 'MALLOC_'];
const RESERVED_NAMES = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'TMP',
  'TEMP',
  'IFS',
  'ENV',
  'SHELLOPTS',
  'LOCPATH',
  'NLSPATH',
  'HOSTALIASES',
  'RES_OPTIONS',
  'LOCALDOMAIN',
  ...CONTRACT_VARIABLES.map((name) => name.toUpperCase()),
]);

/** the input with defaults filled in (a copy) */
export function externalCheckConfig(input: ExternalCheckInput): ExternalCheckConfig {
  return {
    script: input.script,
    environment: (input.environment ?? []).map(({ name, value }) => ({ name, value })),
    output: input.output ?? 'FULL',
  };
}

/** shape and limits; ValidationError naming the field */
export function validateExternalChecks(checks: readonly ExternalCheckConfig[], field = 'checks.external'): void {
  if (checks.length > MAX_EXTERNAL_CHECKS)
    throw new ValidationError(field, `at most ${MAX_EXTERNAL_CHECKS} external checks, got ${checks.length}`);
  checks.forEach((check, i) => {
    const at = `${field}.${i}`;
    validateScriptName(check.script, `${at}.script`);
    if (!(EXTERNAL_CHECK_OUTPUTS as readonly string[]).includes(check.output))
      throw new ValidationError(`${at}.output`, `output must be one of ${EXTERNAL_CHECK_OUTPUTS.join(', ')}`);
    validateEnvironment(check.environment, `${at}.environment`);
  });
}

function validateScriptName(script: string, field: string): void {
  if (script.length === 0 || script.length > MAX_SCRIPT_PATH_LENGTH)
    throw new ValidationError(field, `script must be a path of 1 to ${MAX_SCRIPT_PATH_LENGTH} characters`);
  if (script.includes('\0')) throw new ValidationError(field, 'script must not contain a NUL character');
}

function validateEnvironment(environment: readonly EnvironmentVariable[], field: string): void {
  if (environment.length > MAX_ENVIRONMENT_VARIABLES)
    throw new ValidationError(field, `at most ${MAX_ENVIRONMENT_VARIABLES} variables, got ${environment.length}`);
  const seen = new Set<string>();
  let total = 0;
  environment.forEach(({ name, value }, i) => {
    const at = `${field}.${i}`;
    if (!isVariableName(name))
      throw new ValidationError(
        `${at}.name`,
        `a variable name is 1 to ${MAX_ENVIRONMENT_NAME_LENGTH} letters, digits and underscores, not starting with a digit`,
      );
    const upper = name.toUpperCase();
    if (RESERVED_NAMES.has(upper) || RESERVED_PREFIXES.some((prefix) => upper.startsWith(prefix)))
      throw new ValidationError(
        `${at}.name`,
        `'${name}' is set by vigil or changes what the interpreter runs (PATH, HOME, LD_*, NODE_*, PYTHON*, … and the contract's variables)`,
      );
    if (seen.has(name)) throw new ValidationError(`${at}.name`, `'${name}' is listed twice`);
    seen.add(name);
    if (value.length > MAX_ENVIRONMENT_VALUE_LENGTH)
      throw new ValidationError(`${at}.value`, `a value is at most ${MAX_ENVIRONMENT_VALUE_LENGTH} characters`);
    if (value.includes('\0')) throw new ValidationError(`${at}.value`, 'a value must not contain a NUL character');
    total += name.length + value.length;
  });
  if (total > MAX_ENVIRONMENT_TOTAL)
    throw new ValidationError(field, `names and values together are at most ${MAX_ENVIRONMENT_TOTAL} characters`);
}

/** [A-Za-z_][A-Za-z0-9_]*, bounded */
function isVariableName(name: string): boolean {
  return isWord(name, MAX_ENVIRONMENT_NAME_LENGTH) && !(name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57);
}

/** 1 to `maxLength` ASCII letters, digits and underscores, checked character by character */
export function isWord(text: string, maxLength: number): boolean {
  if (text.length === 0 || text.length > maxLength) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  return true;
}
