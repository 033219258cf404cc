/** External checks' pure parts: the violations file, the child's environment, the interpreter by extension. */
import { describe, expect, it } from 'vitest';
import { validateExternalChecks } from '../../src/monitor/checks/external/config.ts';
import { checkEnvironment } from '../../src/monitor/checks/external/environment.ts';
import { command } from '../../src/monitor/checks/external/process.ts';
import {
  MAX_EXTERNAL_VIOLATIONS,
  MalformedViolations,
  parseViolations,
} from '../../src/monitor/checks/external/violations.ts';

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
