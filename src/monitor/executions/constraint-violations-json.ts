/** An execution's violations as constraint_violations.json, for GraphQL and the download alike. */
import type { Violation } from '../checks/types.ts';

/** constraint_violations.json (SageMaker Model Monitor's shape, with vigil's machine-readable `check` beside it) */
export function constraintViolations(violations: readonly Violation[]) {
  return {
    // model-quality violations name a metric, data-quality ones a feature, as in Model Monitor's files
    violations: violations.map((v) => ({
      check: v.check,
      ...(v.check === 'MODEL_QUALITY' ? { metric_name: v.featureName } : { feature_name: v.featureName }),
      constraint_check_type: v.constraintCheckType,
      description: v.description,
    })),
  };
}
