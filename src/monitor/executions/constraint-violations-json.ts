/** An execution's violations as constraint_violations.json, for GraphQL and the download alike. */
import type { Violation } from '../checks/types.ts';

/** constraint_violations.json (SageMaker Model Monitor's shape) */
export function constraintViolations(violations: readonly Violation[]) {
  return {
    // model-quality violations name a metric, data-quality ones a feature, as in Model Monitor's files
    violations: violations.map((v) => ({
      ...(v.constraintCheckType === 'LessThanThreshold'
        ? { metric_name: v.featureName }
        : { feature_name: v.featureName }),
      constraint_check_type: v.constraintCheckType,
      description: v.description,
    })),
  };
}
