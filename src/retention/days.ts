/** Retention periods, in days: the one rule for endpoints and schedules. */
import { ValidationError } from '../errors.ts';

/** the longest retention that can be set: ten years */
export const MAX_RETENTION_DAYS = 3650;

/** null (kept for ever) or a whole number of days from 1 to MAX_RETENTION_DAYS */
export function validateRetentionDays(days: number | null, field: string): void {
  if (days === null) return;
  if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    throw new ValidationError(
      field,
      `${field.slice(field.lastIndexOf('.') + 1)} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS} (0 removes the limit), got ${days}`,
    );
  }
}

/** a patch's retention: 0 removes the limit (null), absent or null keeps `current` */
export function patchedRetention(patch: number | null | undefined, current: number | null): number | null {
  if (patch === undefined || patch === null) return current;
  return patch === 0 ? null : patch;
}
