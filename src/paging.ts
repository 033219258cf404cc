/** The page size of a listing's `first` argument, bounded the same way for every listing (captures, executions). */
import { ValidationError } from './errors.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** `first` defaulted and bounded: 1 … MAX_PAGE_SIZE */
export function pageSize(first: number | null | undefined, field = 'first', defaultSize = DEFAULT_PAGE_SIZE): number {
  if (first === null || first === undefined) return defaultSize;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new ValidationError(field, `${field} must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${first}`);
  }
  return first;
}
