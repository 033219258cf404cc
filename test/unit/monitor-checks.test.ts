import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import {
  MAX_CONSTRAINTS_BYTES,
  parseConstraints,
  suggestConstraints,
} from '../../src/monitor/baselines/constraints-json.ts';
import { baselineView } from '../../src/monitor/baselines/drift-view.ts';
import { buildStatistics } from '../../src/monitor/baselines/statistics-json.ts';
import { defaultChecks, mergeChecks, validateChecks } from '../../src/monitor/checks/config.ts';
import { driftLimits } from '../../src/monitor/checks/drift.ts';
import { type CheckContext, runChecks } from '../../src/monitor/checks/index.ts';
import { countPredictions } from '../../src/monitor/windows/counts.ts';

const LABELS = Array.from({ length: 43 }, (_, k) => (k === 14 ? 'Stop' : `label ${k}`));

function context(
  predictions: ({ classId: number; confidence: number } | null)[],
  overrides: Partial<CheckContext> = {},
): CheckContext {
  return {
    counts: countPredictions(predictions, 0.5),
    checks: defaultChecks(false),
    label: (k) => LABELS[k] ?? String(k),
    classCount: 43,
    baseline: null,
    outputsCaptured: true,
    ...overrides,
  };
}
const many = (n: number, classId: number, confidence = 0.9) =>
  Array.from({ length: n }, () => ({ classId, confidence }));

describe('monitor checks', () => {
  it('class share: every class over the threshold, largest first, in the SageMaker-style sentence', () => {
    const checks = mergeChecks(defaultChecks(false), { classShare: { threshold: 0.3 } });
    const outcome = runChecks(context([...many(322, 14), ...many(40, 3), ...many(38, 5)], { checks }));
    expect(outcome.violations.map((v) => v.description)).toEqual([
      'Class 14 (Stop) predicted 80.50% of the time: exceeded 30.00% threshold',
    ]);
    const two = runChecks(context([...many(45, 2), ...many(35, 1), ...many(20, 9)], { checks }));
    expect(two.violations.map((v) => v.description)).toEqual([
      'Class 2 (label 2) predicted 45.00% of the time: exceeded 30.00% threshold',
      'Class 1 (label 1) predicted 35.00% of the time: exceeded 30.00% threshold',
    ]);
    // exactly at the threshold is not "more than"
    expect(runChecks(context([...many(50, 2), ...many(50, 1)])).violations).toEqual([]);
    expect(outcome.metrics.class_count_14).toBe(322);
    expect(outcome.metrics.class_count_0).toBe(0);
  });

  it('below the minimum sample size: no violations, a message saying so, counts kept and nothing judged', () => {
    const outcome = runChecks(context(many(29, 14)));
    expect(outcome.violations).toEqual([]);
    expect(outcome.insufficientData).toBe(
      'insufficient data: 29 captures in the window, fewer than the minimum sample size of 30',
    );
    expect(outcome.metrics).toMatchObject({ record_count: 29, class_count_14: 29, insufficient_data: 1 });
    for (const judged of ['max_class_share', 'confidence_mean', 'low_confidence_share', 'violation_count'])
      expect(outcome.metrics).not.toHaveProperty(judged);
    const enough = runChecks(context(many(30, 14)));
    expect(enough.violations.map((v) => v.check)).toEqual(['CLASS_SHARE']);
    expect(enough.metrics).toMatchObject({ max_class_share: 1, insufficient_data: 0, violation_count: 1 });
  });

  it('an empty window, or one without outputs, makes up no share, mean or distance', () => {
    const statistics = buildStatistics(countPredictions(many(100, 3)));
    const constraints = suggestConstraints(statistics);
    const baseline = baselineView('b', statistics, constraints);
    const checks = mergeChecks(defaultChecks(true), { minSampleSize: 1 });
    const empty = runChecks(context([], { checks, baseline }));
    expect(Object.keys(empty.metrics).filter((m) => !m.startsWith('class_count_'))).toEqual([
      'record_count',
      'insufficient_data',
    ]);
    // inputs captured only: 40 captures, none with an output; completeness does not apply
    const inputsOnly = runChecks(context(Array(40).fill(null), { checks, baseline, outputsCaptured: false }));
    expect(inputsOnly.violations).toEqual([]);
    expect(Object.keys(inputsOnly.metrics).filter((m) => !m.startsWith('class_count_'))).toEqual([
      'record_count',
      'violation_count',
      'insufficient_data',
    ]);
    // the same rows where outputs are captured: every one is missing
    const missing = runChecks(context(Array(40).fill(null), { checks, baseline }));
    expect(missing.violations.map((v) => [v.check, v.constraintCheckType])).toEqual([
      ['COMPLETENESS', 'completeness_check'],
    ]);
    expect(missing.metrics.non_null_share).toBe(0);
  });

  it('disabled checks measure but do not judge', () => {
    const checks = mergeChecks(defaultChecks(false), {
      classShare: { enabled: false },
      lowConfidence: { enabled: false },
      completeness: { enabled: false },
    });
    const outcome = runChecks(context([...many(40, 14, 0.1), null, null], { checks }));
    expect(outcome.violations).toEqual([]);
    expect(outcome.metrics).toMatchObject({
      max_class_share: 1,
      low_confidence_share: 1,
      non_null_share: 40 / 42,
      record_count: 42,
    });
  });

  it('drift thresholds: the schedule wins, else the baseline method picks L∞ or chi-squared', () => {
    const base = {
      perform_comparison: 'Enabled',
      categorical_drift_method: 'LInfinity',
      categorical_comparison_threshold: 0.1,
      comparison_threshold: 0.2,
    };
    const none = { lInfinityThreshold: null, chiSquaredPValue: null, confidenceShiftThreshold: null };
    expect(driftLimits(none, base)).toEqual({ lInfinity: 0.1, chiSquaredPValue: null, confidenceShift: 0.2 });
    expect(
      driftLimits(none, { ...base, categorical_drift_method: 'ChiSquared', categorical_comparison_threshold: 0.05 }),
    ).toEqual({
      lInfinity: null,
      chiSquaredPValue: 0.05,
      confidenceShift: 0.2,
    });
    expect(driftLimits({ ...none, chiSquaredPValue: 0.01, confidenceShiftThreshold: 0.3 }, base)).toEqual({
      lInfinity: 0.1,
      chiSquaredPValue: 0.01,
      confidenceShift: 0.3,
    });
    expect(driftLimits(none, { ...base, perform_comparison: 'Disabled' })).toEqual({
      lInfinity: null,
      chiSquaredPValue: null,
      confidenceShift: null,
    });
  });

  it('drift against a baseline built from the same counts is zero', () => {
    const predictions = Array.from({ length: 430 }, (_, i) => ({ classId: i % 43, confidence: 0.5 + (i % 50) / 100 }));
    const statistics = buildStatistics(countPredictions(predictions));
    const baseline = baselineView('b', statistics, suggestConstraints(statistics));
    const outcome = runChecks(context(predictions, { baseline, checks: defaultChecks(true) }));
    expect(outcome.violations).toEqual([]);
    expect(outcome.metrics.drift_l_infinity).toBe(0);
    expect(outcome.metrics.drift_confidence_shift).toBeLessThan(0.002);
    expect(outcome.metrics.drift_chi_squared_p_value).toBeCloseTo(1, 6);
  });

  it('statistics and constraints have the SageMaker shapes', () => {
    const statistics = buildStatistics(
      countPredictions([
        { classId: 3, confidence: 0.25 },
        { classId: 3, confidence: 0.75 },
        { classId: 7, confidence: 1 },
        null,
      ]),
    );
    expect(statistics.dataset.item_count).toBe(4);
    expect(statistics.features[0]).toEqual({
      name: 'PredictedClass',
      inferred_type: 'String',
      string_statistics: {
        common: { num_present: 3, num_missing: 1 },
        distinct_count: 2,
        distribution: {
          categorical: {
            buckets: [
              { value: '3', count: 2 },
              { value: '7', count: 1 },
            ],
          },
        },
      },
    });
    const feature = statistics.features[1];
    if (!feature || !('numerical_statistics' in feature)) throw new Error('the second feature is not numerical');
    const n = feature.numerical_statistics;
    expect([n.sum, n.min, n.max]).toEqual([2, 0.25, 1]);
    expect(n.mean).toBeCloseTo(2 / 3, 9);
    expect(n.std_dev).toBeCloseTo(Math.sqrt(((0.25 - 2 / 3) ** 2 + (0.75 - 2 / 3) ** 2 + (1 / 3) ** 2) / 3), 9);
    expect(n.distribution.kll.buckets.map((b: { count: number }) => b.count)).toEqual([0, 0, 1, 0, 0, 0, 0, 1, 0, 1]);
    expect(n.quantiles[0]).toEqual({ quantile: 0, value: 0.25 });
    expect(n.quantiles[100]).toEqual({ quantile: 1, value: 1 });
    const constraints = suggestConstraints(statistics, { driftMethod: 'ChiSquared' });
    // only what vigil enforces: the drift check's features and distribution constraints
    expect(constraints).toEqual({
      version: 0,
      features: [
        { name: 'PredictedClass', inferred_type: 'String' },
        { name: 'Confidence', inferred_type: 'Fractional' },
      ],
      monitoring_config: {
        distribution_constraints: {
          perform_comparison: 'Enabled',
          comparison_threshold: 0.1,
          categorical_comparison_threshold: 0.1,
          categorical_drift_method: 'ChiSquared',
        },
      },
    });
    expect(parseConstraints(JSON.parse(JSON.stringify(constraints)))).toEqual(constraints);
  });

  it('an edited constraints.json: only what vigil enforces, thresholds in (0, 1]', () => {
    const valid = {
      monitoring_config: {
        distribution_constraints: {
          perform_comparison: 'Disabled',
          comparison_threshold: 0.2,
          categorical_comparison_threshold: 0.05,
          categorical_drift_method: 'LInfinity',
        },
      },
    };
    expect(parseConstraints(valid).monitoring_config.distribution_constraints.perform_comparison).toBe('Disabled');
    const d = valid.monitoring_config.distribution_constraints;
    const invalid: [unknown, string][] = [
      [null, 'constraints'],
      [[], 'constraints'],
      [{}, 'constraints.monitoring_config'],
      [{ ...valid, version: 1 }, 'constraints.version'],
      [{ ...valid, extra: 1 }, 'constraints.extra'],
      [{ ...valid, features: [{ name: 'PredictedClass', completeness: 1 }] }, 'constraints.features.completeness'],
      [{ ...valid, features: [] }, 'constraints.features'],
      [
        { monitoring_config: { ...valid.monitoring_config, emit_metrics: 'Enabled' } },
        'constraints.monitoring_config.emit_metrics',
      ],
      [
        { monitoring_config: { distribution_constraints: { ...d, comparison_threshold: 0 } } },
        'constraints.monitoring_config.distribution_constraints.comparison_threshold',
      ],
      [
        { monitoring_config: { distribution_constraints: { ...d, categorical_comparison_threshold: '0.1' } } },
        'constraints.monitoring_config.distribution_constraints.categorical_comparison_threshold',
      ],
      [
        { monitoring_config: { distribution_constraints: { ...d, categorical_drift_method: 'KS' } } },
        'constraints.monitoring_config.distribution_constraints.categorical_drift_method',
      ],
      [
        { monitoring_config: { distribution_constraints: { ...d, perform_comparison: true } } },
        'constraints.monitoring_config.distribution_constraints.perform_comparison',
      ],
      [
        { monitoring_config: { distribution_constraints: { ...d, comparison_method: 'Robust' } } },
        'constraints.monitoring_config.distribution_constraints.comparison_method',
      ],
      [{ ...valid, padding: 'x'.repeat(MAX_CONSTRAINTS_BYTES) }, 'constraints'],
    ];
    for (const [value, field] of invalid) {
      let thrown: unknown;
      try {
        parseConstraints(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, field).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).field).toBe(field);
    }
  });

  it('validates every threshold in (0, 1] and that drift has a baseline', () => {
    const invalid: [object, boolean, string][] = [
      [{ classShare: { threshold: 0 } }, false, 'checks.classShare.threshold'],
      [{ lowConfidence: { confidenceThreshold: 1.01 } }, false, 'checks.lowConfidence.confidenceThreshold'],
      [{ drift: { chiSquaredPValue: Number.NaN } }, true, 'checks.drift.chiSquaredPValue'],
      [{ minSampleSize: 2.5 }, false, 'checks.minSampleSize'],
      [{ drift: { enabled: true } }, false, 'checks.drift.enabled'],
    ];
    for (const [input, hasBaseline, field] of invalid) {
      const checks = mergeChecks(defaultChecks(hasBaseline), input);
      expect(() => validateChecks(checks, hasBaseline)).toThrow(ValidationError);
      try {
        validateChecks(checks, hasBaseline);
      } catch (error) {
        expect((error as ValidationError).field).toBe(field);
      }
    }
    expect(() =>
      validateChecks(mergeChecks(defaultChecks(true), { classShare: { threshold: 1 } }), true),
    ).not.toThrow();
    // null clears a drift threshold, but keeps other values
    const cleared = mergeChecks(mergeChecks(defaultChecks(true), { drift: { lInfinityThreshold: 0.2 } }), {
      drift: { lInfinityThreshold: null },
      classShare: { threshold: null },
    });
    expect([cleared.drift.lInfinityThreshold, cleared.classShare.threshold]).toEqual([null, 0.5]);
  });
});
