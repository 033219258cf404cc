/** Names of baselines and schedules follow the endpoint naming rule (they appear in URLs and metrics). */
import { ValidationError } from '../errors.ts';

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function validateResourceName(name: string, kind: string, field = 'name'): void {
  if (!NAME.test(name)) {
    throw new ValidationError(
      field,
      `${kind} name '${name}' is invalid: use 1–63 letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  }
}
