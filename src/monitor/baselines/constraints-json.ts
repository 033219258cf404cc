/**
 * constraints.json in SageMaker Model Monitor's shape: suggested from a baseline's statistics, read
 * back from storage, and validated when a client replaces it. It holds only what vigil enforces (see
 * `Constraints`): an uploaded key vigil would ignore is refused, naming it, rather than silently kept.
 */
import { ValidationError } from '../../errors.ts';
import { isOneOf } from '../../guards.ts';
import { type Constraints, DRIFT_METHODS, type DriftMethod, FEATURE, type Statistics } from './types.ts';

export interface ConstraintOptions {
  driftMethod?: DriftMethod;
  /** LInfinity distance, or ChiSquared p-value (default 0.1, SageMaker's) */
  categoricalThreshold?: number;
  /** the confidence distribution's KS distance (default 0.1) */
  confidenceThreshold?: number;
}

/** the features the drift check compares */
const FEATURES: Constraints['features'] = [
  { name: FEATURE.predictedClass, inferred_type: 'String' },
  { name: FEATURE.confidence, inferred_type: 'Fractional' },
];

/** the largest constraints.json accepted, serialized */
export const MAX_CONSTRAINTS_BYTES = 16 * 1024;

/** Suggested constraints: the drift thresholds (statistics decide nothing else vigil enforces). */
export function suggestConstraints(_statistics: Statistics, options: ConstraintOptions = {}): Constraints {
  return {
    version: 0,
    features: FEATURES.map((f) => ({ ...f })),
    monitoring_config: {
      distribution_constraints: {
        perform_comparison: 'Enabled',
        comparison_threshold: options.confidenceThreshold ?? 0.1,
        categorical_comparison_threshold: options.categoricalThreshold ?? 0.1,
        categorical_drift_method: options.driftMethod ?? 'LInfinity',
      },
    },
  };
}

/**
 * Stored constraints as vigil enforces them: what older baselines stored beyond that (Model Monitor's
 * other constraints, which nothing checked) is left out.
 */
export function enforcedConstraints(stored: Constraints): Constraints {
  const d = stored.monitoring_config.distribution_constraints;
  return {
    version: 0,
    features: FEATURES.map((f) => ({ ...f })),
    monitoring_config: {
      distribution_constraints: {
        perform_comparison: d.perform_comparison,
        comparison_threshold: d.comparison_threshold,
        categorical_comparison_threshold: d.categorical_comparison_threshold,
        categorical_drift_method: d.categorical_drift_method,
      },
    },
  };
}

/** what vigil enforces, for messages */
const ENFORCED =
  'vigil enforces monitoring_config.distribution_constraints (perform_comparison, comparison_threshold, categorical_comparison_threshold, categorical_drift_method)';

/** A client's edited constraints.json, validated: ValidationError naming the first offending path. */
export function parseConstraints(value: unknown): Constraints {
  if (largerThan(value, MAX_CONSTRAINTS_BYTES))
    throw new ValidationError('constraints', `constraints.json is over the ${MAX_CONSTRAINTS_BYTES}-byte limit`);
  const root = record(value, 'constraints', ['version', 'features', 'monitoring_config'], ['monitoring_config']);
  if (root.version !== undefined && root.version !== 0)
    throw new ValidationError(
      'constraints.version',
      `version must be 0, got ${typeof root.version === 'number' ? root.version : `a ${typeof root.version}`}`,
    );
  if (root.features !== undefined) features(root.features);
  const config = record(root.monitoring_config, 'constraints.monitoring_config', ['distribution_constraints']);
  const path = 'constraints.monitoring_config.distribution_constraints';
  const d = record(config.distribution_constraints, path, [
    'perform_comparison',
    'comparison_threshold',
    'categorical_comparison_threshold',
    'categorical_drift_method',
  ]);
  const perform = d.perform_comparison;
  if (perform !== 'Enabled' && perform !== 'Disabled')
    throw new ValidationError(`${path}.perform_comparison`, 'perform_comparison must be "Enabled" or "Disabled"');
  const method = d.categorical_drift_method;
  if (typeof method !== 'string' || !isOneOf(DRIFT_METHODS, method))
    throw new ValidationError(
      `${path}.categorical_drift_method`,
      `categorical_drift_method must be one of ${DRIFT_METHODS.join(', ')}`,
    );
  return {
    version: 0,
    features: FEATURES.map((f) => ({ ...f })),
    monitoring_config: {
      distribution_constraints: {
        perform_comparison: perform,
        comparison_threshold: share(d.comparison_threshold, `${path}.comparison_threshold`),
        categorical_comparison_threshold: share(
          d.categorical_comparison_threshold,
          `${path}.categorical_comparison_threshold`,
        ),
        categorical_drift_method: method,
      },
    },
  };
}

/** an object with only `allowed` keys, the `required` ones present */
function record(
  value: unknown,
  path: string,
  allowed: readonly string[],
  required: readonly string[] = allowed,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError(path, `${path.split('.').at(-1)} must be a JSON object`);
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key))
      throw new ValidationError(`${path}.${key}`, `${key} is not a constraint vigil enforces: ${ENFORCED}`);
  }
  for (const key of required) {
    if (object[key] === undefined) throw new ValidationError(`${path}.${key}`, `${key} is required`);
  }
  return object;
}

/** the features, if given, are the two the drift check compares, named as SageMaker names them */
function features(value: unknown): void {
  const items = Array.isArray(value) ? value.slice(0, FEATURES.length + 1) : [];
  const names = items.map((f: unknown) => {
    const item = typeof f === 'object' && f !== null ? (f as Record<string, unknown>) : {};
    const extra = Object.keys(item).find((k) => k !== 'name' && k !== 'inferred_type');
    if (extra)
      throw new ValidationError(
        `constraints.features.${extra}`,
        `${extra} is not a constraint vigil enforces: ${ENFORCED}`,
      );
    // only strings are shown: String() of a deeply nested array would recurse
    const text = (x: unknown) => (typeof x === 'string' ? x : typeof x);
    return `${text(item.name)}:${text(item.inferred_type)}`;
  });
  if (names.join(',') !== FEATURES.map((f) => `${f.name}:${f.inferred_type}`).join(','))
    throw new ValidationError(
      'constraints.features',
      'features, when given, must be [{"name":"PredictedClass","inferred_type":"String"},{"name":"Confidence","inferred_type":"Fractional"}]',
    );
}

function share(value: unknown, path: string): number {
  if (typeof value !== 'number' || !(Number.isFinite(value) && value > 0 && value <= 1))
    throw new ValidationError(
      path,
      `${path.split('.').at(-1)} must be a number in (0, 1], got ${typeof value === 'number' ? value : `a ${typeof value}`}`,
    );
  return value;
}

/**
 * Whether the value's JSON text would be longer than `limit` (about: keys, strings and 8 per other
 * value), walked with a stack of its own and stopping at the limit, so that a deeply nested or huge
 * value costs no more than the limit (JSON.stringify would recurse through any depth).
 */
function largerThan(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (typeof v === 'object' && v !== null) {
      size += 2;
      if (Array.isArray(v)) stack.push(...v.slice(0, limit));
      else for (const [key, inner] of Object.entries(v).slice(0, limit)) stack.push(key, inner);
    } else size += 8;
    if (size > limit) return true;
  }
  return false;
}
