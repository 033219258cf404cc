/** An execution's violations as constraint_violations.json, for GraphQL and the download alike. */
import type { Violation } from '../checks/types.ts';

/** constraint_violations.json (SageMaker Model Monitor's shape) */
export function constraintViolations(violations: readonly Violation[]) {
  return {
    violations: violations.map((v) => ({
      feature_name: v.featureName,
      constraint_check_type: v.constraintCheckType,
      description: v.description,
    })),
  };
}
