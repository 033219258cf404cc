/**
 * External checks: scripts of CHECKS_DIR run once per execution in Model Monitor's bring-your-own-
 * container contract. For each check, one after the other: its script found again inside CHECKS_DIR
 * (it may have been removed or swapped for a link since the schedule was saved) → a temporary
 * directory holding dataset_source (the window's captures, dataset.ts) and output_path → the process
 * (process.ts: no shell, its own process group, time and output limits) with the contract's
 * environment (environment.ts) → its constraint_violations.json read as violations (violations.ts) →
 * the directory removed, whatever happened.
 *
 * A check that fails (its script missing, not starting, a nonzero exit, the time limit, too much
 * output, a malformed violations file) is recorded as failed with its stderr's tail; the execution
 * goes on with the other checks.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../../../errors.ts';
import type { Logger } from '../../../logger.ts';
import { realPathInside } from '../../../paths.ts';
import type { Violation } from '../types.ts';
import type { ExternalCheckConfig, ExternalCheckOutput } from './config.ts';
import { type CaptureLines, writeDataset } from './dataset.ts';
import { checkEnvironment } from './environment.ts';
import { type ProcessResult, runProcess } from './process.ts';
import { MalformedViolations, readViolations } from './violations.ts';

export interface ExternalCheckSettings {
  /** CHECKS_DIR, resolved; null: external checks are off, and a schedule naming one is refused */
  dir: string | null;
  /** one script's time limit */
  timeoutMs: number;
  /** what one script may print (stdout and stderr together) and write to output_path, each */
  maxOutputBytes: number;
  /** captures written to dataset_source at most (the window's oldest) */
  maxCaptures: number;
}

export const EXTERNAL_CHECK_STATUSES = ['PASSED', 'VIOLATIONS', 'FAILED'] as const;
export type ExternalCheckStatus = (typeof EXTERNAL_CHECK_STATUSES)[number];

/** why a check failed */
export const EXTERNAL_CHECK_FAILURES = [
  'SCRIPT_MISSING',
  'DATASET_FAILED',
  'START_FAILED',
  'EXIT_CODE',
  'TIMEOUT',
  'OUTPUT_TOO_LARGE',
  'MALFORMED_OUTPUT',
] as const;
export type ExternalCheckFailure = (typeof EXTERNAL_CHECK_FAILURES)[number];

/** one external check's run, kept on its execution */
export interface ExternalCheckRun {
  script: string;
  output: ExternalCheckOutput;
  status: ExternalCheckStatus;
  failure: ExternalCheckFailure | null;
  /** one line: what happened */
  message: string;
  exitCode: number | null;
  signal: string | null;
  /** the last bytes of its stderr */
  stderrTail: string;
  violationCount: number;
  capturesWritten: number;
  /** the window held more captures than were written (EXTERNAL_CHECK_MAX_CAPTURES) */
  capturesTruncated: boolean;
  durationMs: number;
}

export interface ExternalJob {
  executionId: string;
  endpointName: string;
  /** null for an ad-hoc run */
  scheduleName: string | null;
  windowStart: Date;
  windowEnd: Date;
  /** the job's baseline files (statistics.json, constraints.json); null without a baseline */
  baseline: { statistics: unknown; constraints: unknown } | null;
}

export interface ExternalOutcome {
  violations: Violation[];
  runs: ExternalCheckRun[];
  /** external_check_failures: the failed checks, when the job has any external check */
  metrics: Record<string, number>;
}

/** entries of output_path looked at, at most, when its size is measured */
const MAX_OUTPUT_ENTRIES = 10_000;

export class ExternalChecks {
  constructor(private readonly deps: { settings: ExternalCheckSettings; captures: CaptureLines; logger: Logger }) {}

  /**
   * Each script names a regular file inside CHECKS_DIR (links and `..` resolved); ValidationError
   * otherwise, or when CHECKS_DIR is not set. Called when a schedule or an ad-hoc run is given checks.
   */
  async validate(checks: readonly ExternalCheckConfig[], field = 'checks.external'): Promise<void> {
    if (!checks.length) return;
    const { dir } = this.deps.settings;
    if (!dir)
      throw new ValidationError(field, 'external checks are off on this server: its administrator sets CHECKS_DIR');
    for (const [i, check] of checks.entries()) {
      if (!(await this.#script(check.script)))
        throw new ValidationError(
          `${field}.${i}.script`,
          `'${check.script.slice(0, 200)}' is not a file inside CHECKS_DIR (links and '..' may not lead out of it)`,
        );
    }
  }

  /** runs each check over the job's window; never throws for a check's failure */
  async run(checks: readonly ExternalCheckConfig[], job: ExternalJob, signal: AbortSignal): Promise<ExternalOutcome> {
    const outcome: ExternalOutcome = { violations: [], runs: [], metrics: {} };
    for (const check of checks) {
      if (signal.aborted) break;
      const { run, violations } = await this.#runOne(check, job, signal).catch((error: unknown) => ({
        // the host's side failed (no temporary directory, a full disk): this check, not the execution
        run: failedRun(check, 'START_FAILED', `it could not be run: ${(error as Error).message}`),
        violations: [],
      }));
      outcome.runs.push(run);
      outcome.violations.push(...violations);
      if (run.status === 'FAILED')
        this.deps.logger.warn('external check failed', {
          execution: job.executionId,
          script: check.script,
          failure: run.failure,
          message: run.message,
        });
    }
    if (outcome.runs.length)
      outcome.metrics.external_check_failures = outcome.runs.filter((r) => r.status === 'FAILED').length;
    return outcome;
  }

  /** the script's real path when it is a regular file inside CHECKS_DIR */
  async #script(script: string): Promise<string | null> {
    const { dir } = this.deps.settings;
    if (!dir) return null;
    const real = await realPathInside(script, [dir], dir);
    if (!real) return null;
    const stat = await fs.stat(real).catch(() => null);
    return stat?.isFile() ? real : null;
  }

  async #runOne(
    check: ExternalCheckConfig,
    job: ExternalJob,
    signal: AbortSignal,
  ): Promise<{ run: ExternalCheckRun; violations: Violation[] }> {
    const started = Date.now();
    const run = failedRun(check, null, '');
    const failed = (failure: ExternalCheckFailure, message: string) => {
      run.status = 'FAILED';
      run.failure = failure;
      run.message = message;
      run.durationMs = Date.now() - started;
      return { run, violations: [] };
    };
    const { settings } = this.deps;
    const script = await this.#script(check.script);
    if (!script)
      return failed(
        'SCRIPT_MISSING',
        settings.dir
          ? 'the script is no longer a file inside CHECKS_DIR'
          : 'external checks are off on this server (CHECKS_DIR is not set)',
      );
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-check-'));
    try {
      const datasetSource = path.join(work, 'input');
      const outputPath = path.join(work, 'output');
      await fs.mkdir(datasetSource);
      await fs.mkdir(outputPath);
      try {
        const written = await writeDataset(
          this.deps.captures,
          { endpointName: job.endpointName, from: job.windowStart, to: job.windowEnd, output: check.output },
          datasetSource,
          settings.maxCaptures,
        );
        run.capturesWritten = written.written;
        run.capturesTruncated = written.truncated;
      } catch (error) {
        return failed('DATASET_FAILED', `the window's captures could not be written: ${(error as Error).message}`);
      }
      const baseline = job.baseline && (await writeBaseline(work, job.baseline));
      const env = checkEnvironment(
        {
          datasetSource,
          outputPath,
          start: job.windowStart,
          end: job.windowEnd,
          endpointName: job.endpointName,
          scheduleName: job.scheduleName ?? `ad-hoc-${job.executionId}`,
          workDir: work,
          baseline,
        },
        check.environment,
      );
      const result = await runProcess(script, {
        cwd: work,
        env,
        limits: { timeoutMs: settings.timeoutMs, maxOutputBytes: settings.maxOutputBytes },
        signal,
      });
      run.exitCode = result.exitCode;
      run.signal = result.signal;
      run.stderrTail = result.stderrTail;
      const failure = processFailure(result, settings);
      if (failure) return failed(...failure);
      const written = await directorySize(outputPath, settings.maxOutputBytes);
      if (written > settings.maxOutputBytes)
        return failed('OUTPUT_TOO_LARGE', `it wrote more than ${settings.maxOutputBytes} bytes to output_path`);
      let violations: Violation[];
      try {
        violations = await readViolations(outputPath, settings.maxOutputBytes);
      } catch (error) {
        if (!(error instanceof MalformedViolations)) throw error;
        return failed(error.tooLarge ? 'OUTPUT_TOO_LARGE' : 'MALFORMED_OUTPUT', error.message);
      }
      run.status = violations.length ? 'VIOLATIONS' : 'PASSED';
      run.violationCount = violations.length;
      run.message = violations.length
        ? `${violations.length} violation${violations.length === 1 ? '' : 's'}`
        : 'no violations';
      run.durationMs = Date.now() - started;
      return { run, violations };
    } finally {
      await fs.rm(work, { recursive: true, force: true, maxRetries: 3 });
    }
  }
}

/** the baseline's files in `work/baseline`, as Model Monitor hands them to a container: their paths */
async function writeBaseline(
  work: string,
  baseline: NonNullable<ExternalJob['baseline']>,
): Promise<{ statistics: string; constraints: string }> {
  const dir = path.join(work, 'baseline');
  await fs.mkdir(dir);
  const files = { statistics: path.join(dir, 'statistics.json'), constraints: path.join(dir, 'constraints.json') };
  await fs.writeFile(files.statistics, JSON.stringify(baseline.statistics, null, 2));
  await fs.writeFile(files.constraints, JSON.stringify(baseline.constraints, null, 2));
  return files;
}

/** a run that has not (yet) succeeded */
function failedRun(
  check: ExternalCheckConfig,
  failure: ExternalCheckFailure | null,
  message: string,
): ExternalCheckRun {
  return {
    script: check.script,
    output: check.output,
    status: 'FAILED',
    failure,
    message,
    exitCode: null,
    signal: null,
    stderrTail: '',
    violationCount: 0,
    capturesWritten: 0,
    capturesTruncated: false,
    durationMs: 0,
  };
}

/** why a finished process failed its check, or null when it exited with 0 within its limits */
function processFailure(result: ProcessResult, settings: ExternalCheckSettings): [ExternalCheckFailure, string] | null {
  if (result.startError) return ['START_FAILED', `it could not be started: ${result.startError}`];
  if (result.timedOut) return ['TIMEOUT', `it ran past the time limit of ${settings.timeoutMs} ms and was killed`];
  if (result.outputExceeded)
    return ['OUTPUT_TOO_LARGE', `it printed more than ${settings.maxOutputBytes} bytes and was killed`];
  if (result.exitCode !== 0)
    return [
      'EXIT_CODE',
      result.exitCode === null ? `it was ended by ${result.signal}` : `it exited with code ${result.exitCode}`,
    ];
  return null;
}

/** bytes of the regular files under `dir` (links not followed), counting stops once past `limit` */
async function directorySize(dir: string, limit: number): Promise<number> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  let total = 0;
  for (const entry of entries.slice(0, MAX_OUTPUT_ENTRIES)) {
    if (!entry.isFile()) continue;
    total += (await fs.lstat(path.join(entry.parentPath, entry.name))).size;
    if (total > limit) break;
  }
  return entries.length > MAX_OUTPUT_ENTRIES ? Number.POSITIVE_INFINITY : total;
}

/** the execution message's note on failed checks, e.g. "external check 'a.py' failed: it exited with code 2" */
export function failedChecksNote(runs: readonly ExternalCheckRun[]): string | null {
  const failed = runs.filter((r) => r.status === 'FAILED');
  if (!failed.length) return null;
  const first = failed[0]!;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
  return `external check '${first.script}' failed: ${first.message}${more}`;
}
