/** External checks' pure parts: the violations file, the child's environment, the interpreter by extension. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateExternalChecks } from '../../src/monitor/checks/external/config.ts';
import { checkEnvironment } from '../../src/monitor/checks/external/environment.ts';
import { command, runProcess, TAIL_BYTES } from '../../src/monitor/checks/external/process.ts';
import {
  MAX_EXTERNAL_VIOLATIONS,
  MalformedViolations,
  parseViolations,
} from '../../src/monitor/checks/external/violations.ts';
import { stillRunning } from '../helpers/process.ts';

describe('external check violations file', () => {
  it("reads Model Monitor's shape, metric_name standing for feature_name", () => {
    const text = JSON.stringify({
      violations: [
        { feature_name: 'PredictedClass', constraint_check_type: 'baseline_drift_check', description: 'Class 14' },
        { metric_name: 'accuracy', constraint_check_type: 'LessThanThreshold', description: 'low', extra: 1 },
      ],
    });
    expect(parseViolations(text)).toEqual([
      {
        check: 'EXTERNAL',
        featureName: 'PredictedClass',
        constraintCheckType: 'baseline_drift_check',
        description: 'Class 14',
      },
      { check: 'EXTERNAL', featureName: 'accuracy', constraintCheckType: 'LessThanThreshold', description: 'low' },
    ]);
    expect(parseViolations('{"violations": []}')).toEqual([]);
    // PostgreSQL cannot store U+0000
    const nul =
      '{"violations": [{"feature_name": "a\\u0000b", "constraint_check_type": "x", "description": "\\u0000"}]}';
    expect(parseViolations(nul)).toEqual([
      { check: 'EXTERNAL', featureName: 'a\uFFFDb', constraintCheckType: 'x', description: '\uFFFD' },
    ]);
  });

  it.each([
    ['not JSON', /is not JSON/],
    ['[]', /expected \{"violations"/],
    ['{"violations": {}}', /expected \{"violations"/],
    ['{"violations": [1]}', /violations\[0\] is not an object/],
    ['{"violations": [{"constraint_check_type": "x", "description": "d"}]}', /feature_name/],
    [
      '{"violations": [{"feature_name": "f", "constraint_check_type": "a b", "description": "d"}]}',
      /constraint_check_type/,
    ],
    [
      '{"violations": [{"feature_name": "f", "constraint_check_type": "", "description": "d"}]}',
      /constraint_check_type/,
    ],
    ['{"violations": [{"feature_name": "f", "constraint_check_type": "x"}]}', /description/],
  ])('refuses %s', (text, message) => {
    expect(() => parseViolations(text)).toThrow(MalformedViolations);
    expect(() => parseViolations(text)).toThrow(message);
  });

  it('refuses more than the limit of violations as too large', () => {
    const one = { feature_name: 'f', constraint_check_type: 'x', description: 'd' };
    const text = JSON.stringify({ violations: Array.from({ length: MAX_EXTERNAL_VIOLATIONS + 1 }, () => one) });
    try {
      parseViolations(text);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedViolations);
      expect((error as MalformedViolations).tooLarge).toBe(true);
    }
  });
});

describe("external check's process", () => {
  it("gets the contract's variables and the schedule's, none of the server's", () => {
    const env = checkEnvironment(
      {
        datasetSource: '/w/input',
        outputPath: '/w/output',
        start: new Date('2026-12-01T10:00:00Z'),
        end: new Date('2026-12-01T11:00:00Z'),
        endpointName: 'signs',
        scheduleName: 'hourly',
        workDir: '/w',
        baseline: null,
      },
      [{ name: 'THRESHOLD', value: '0.4' }],
      '/usr/bin:/bin',
    );
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/w',
      TMPDIR: '/w',
      LANG: 'C.UTF-8',
      PYTHONDONTWRITEBYTECODE: '1',
      THRESHOLD: '0.4',
      dataset_source: '/w/input',
      output_path: '/w/output',
      start_time: '2026-12-01T10:00:00.000Z',
      end_time: '2026-12-01T11:00:00.000Z',
      sagemaker_endpoint_name: 'signs',
      sagemaker_monitoring_schedule_name: 'hourly',
      dataset_format: '{"sagemakerCaptureJson":{"captureIndexNames":["endpointInput","endpointOutput"]}}',
      publish_cloudwatch_metrics: 'Disabled',
    });
  });

  it('is run by its extension: python3, node, or itself', () => {
    expect(command('/c/evaluation.py')).toEqual({ file: 'python3', args: ['/c/evaluation.py'] });
    expect(command('/c/EVAL.PY')).toEqual({ file: 'python3', args: ['/c/EVAL.PY'] });
    for (const script of ['/c/a.js', '/c/a.mjs', '/c/a.cjs'])
      expect(command(script)).toEqual({ file: process.execPath, args: [script] });
    expect(command('/c/check.sh')).toEqual({ file: '/c/check.sh', args: [] });
    expect(command('/c/check')).toEqual({ file: '/c/check', args: [] });
  });

  it('validates the shape before any file is looked at', () => {
    expect(() =>
      validateExternalChecks([{ script: 'a.py', output: 'FULL', environment: [{ name: 'PythonPath', value: '/x' }] }]),
    ).toThrow(/changes what the interpreter runs/);
    expect(() =>
      validateExternalChecks([{ script: 'a.py', output: 'FULL', environment: [{ name: '_ok1', value: '' }] }]),
    ).not.toThrow();
    expect(() =>
      validateExternalChecks([
        {
          script: 'a.py',
          output: 'FULL',
          environment: Array.from({ length: 10 }, (_, i) => ({ name: `V${i}`, value: 'x'.repeat(4000) })),
        },
      ]),
    ).toThrow(/names and values together/);
  });
});

describe('runProcess', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-process-test-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const limits = { timeoutMs: 20_000, maxOutputBytes: 1_000_000 };
  const options = { cwd: dir, env: { PATH: process.env.PATH ?? '' } };
  /** a node script that starts a child in its group, prints the child's pid and waits */
  const waiting = script(
    'wait.mjs',
    `import { spawn } from 'node:child_process';
const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
process.stderr.write('child=' + child.pid + '\\n');
setTimeout(() => {}, 60000);
`,
  );
  const childOf = (stderr: string) => Number(/child=(\d+)/.exec(stderr)?.[1]);

  it('passes the exit code and keeps the tail of stderr', async () => {
    const file = script('exit.mjs', "process.stderr.write('x'.repeat(10000) + 'the end'); process.exit(7);");
    const result = await runProcess(file, { ...options, limits });
    expect(result).toMatchObject({
      exitCode: 7,
      signal: null,
      timedOut: false,
      outputExceeded: false,
      startError: null,
    });
    expect(result.stderrTail).toHaveLength(TAIL_BYTES);
    expect(result.stderrTail.endsWith('the end')).toBe(true);
  });

  it('kills the whole process group at the time limit', async () => {
    const started = Date.now();
    const result = await runProcess(waiting, { ...options, limits: { ...limits, timeoutMs: 1500 } });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
    expect(Date.now() - started).toBeLessThan(10_000);
    const child = childOf(result.stderrTail);
    expect(child).toBeGreaterThan(0);
    expect(await stillRunning(child)).toBe(false);
  });

  it('kills it when aborted, and when it prints more than the limit', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1000);
    const aborted = await runProcess(waiting, { ...options, limits, signal: controller.signal });
    expect(aborted).toMatchObject({ timedOut: false, signal: 'SIGTERM' });
    expect(await stillRunning(childOf(aborted.stderrTail))).toBe(false);

    const loud = script('loud.mjs', "setInterval(() => process.stdout.write('y'.repeat(65536)), 1);");
    const result = await runProcess(loud, { ...options, limits: { ...limits, maxOutputBytes: 100_000 } });
    expect(result).toMatchObject({ outputExceeded: true, timedOut: false });
  });

  it('reports a script that cannot start', async () => {
    const file = script('not-executable', 'echo hi\n');
    const result = await runProcess(file, { ...options, limits });
    expect(result.startError).toMatch(/EACCES/);
    expect(result.exitCode).toBeNull();
  });
});
