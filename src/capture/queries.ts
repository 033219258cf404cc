/**
 * The capture domain's query language: filters and keyset cursors, validated and turned
 * into Prisma conditions. Pure functions, shared by the GraphQL listing and the JSON Lines export.
 *
 * Keyset order is (inferenceTime, id): the listing walks it newest first, the export oldest first.
 * A cursor is the position of a row in that order, opaque to clients (base64url of `<ms>:<id>`).
 */

import type { Prisma } from '../db/prisma.ts';
import { ValidationError } from '../errors.ts';

/** What a client may filter a listing by; null and undefined mean "no condition". */
export interface CaptureFilter {
  /** inferenceTime ≥ from */
  from?: Date | null;
  /** inferenceTime < to */
  to?: Date | null;
  predictedClass?: number | null;
  /** confidence ≥ minConfidence (0–1) */
  minConfidence?: number | null;
  /** confidence ≤ maxConfidence (0–1) */
  maxConfidence?: number | null;
  /** true: only captures the debugger hook recorded a step for; false: only those without */
  hasDebugStep?: boolean | null;
  /**
   * the captures of a monitoring execution's window: resolved into from/to (narrowing them) by the
   * GraphQL layer before the listing, which ignores it
   */
  execution?: string | null;
}

export interface TimeRange {
  from?: Date | null;
  to?: Date | null;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  filter?: CaptureFilter | null;
}

/** A row's position in the keyset order. */
export interface Cursor {
  time: number;
  id: string;
}

export function encodeCursor(row: { inferenceTime: Date; id: string }): string {
  return Buffer.from(`${row.inferenceTime.getTime()}:${row.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): Cursor {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const split = text.indexOf(':');
  const time = Number(text.slice(0, split));
  const id = text.slice(split + 1);
  if (
    split <= 0 ||
    !Number.isSafeInteger(time) ||
    !id ||
    encodeCursor({ inferenceTime: new Date(time), id }) !== cursor
  ) {
    throw new ValidationError(field, `'${cursor}' is not a cursor returned by this listing`);
  }
  return { time, id };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** an ISO-8601 date or date-time from a URL or command line; undefined when absent or empty */
export function parseIsoDate(raw: string | null | undefined, field: string): Date | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  const date = new Date(raw);
  if (!ISO_DATE.test(raw) || Number.isNaN(date.getTime())) {
    throw new ValidationError(field, `${field} must be an ISO-8601 date or date-time, got '${raw}'`);
  }
  return date;
}

export function validateRange(range: TimeRange, prefix = ''): void {
  for (const key of ['from', 'to'] as const) {
    const value = range[key];
    if (value !== null && value !== undefined && !(value instanceof Date && Number.isFinite(value.getTime()))) {
      throw new ValidationError(`${prefix}${key}`, `${key} must be a valid date`);
    }
  }
  if (range.from && range.to && range.from.getTime() > range.to.getTime()) {
    throw new ValidationError(
      `${prefix}to`,
      `to (${range.to.toISOString()}) is before from (${range.from.toISOString()})`,
    );
  }
}

export function validateFilter(filter: CaptureFilter, prefix = 'filter.'): void {
  validateRange(filter, prefix);
  const { predictedClass, minConfidence, maxConfidence } = filter;
  if (
    predictedClass !== null &&
    predictedClass !== undefined &&
    (!Number.isInteger(predictedClass) || predictedClass < 0)
  ) {
    throw new ValidationError(
      `${prefix}predictedClass`,
      `predictedClass must be a class index ≥ 0, got ${predictedClass}`,
    );
  }
  for (const [key, value] of [
    ['minConfidence', minConfidence],
    ['maxConfidence', maxConfidence],
  ] as const) {
    if (value !== null && value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) {
      throw new ValidationError(`${prefix}${key}`, `${key} must be between 0 and 1, got ${value}`);
    }
  }
  if (isSet(minConfidence) && isSet(maxConfidence) && minConfidence > maxConfidence) {
    throw new ValidationError(
      `${prefix}minConfidence`,
      `minConfidence (${minConfidence}) is above maxConfidence (${maxConfidence})`,
    );
  }
}

/** The rows of one endpoint that pass the filter (which must have been validated). */
export function filterWhere(endpointId: string, filter: CaptureFilter = {}): Prisma.CaptureWhereInput {
  const where: Prisma.CaptureWhereInput = { endpointId };
  if (isSet(filter.from) || isSet(filter.to)) {
    where.inferenceTime = {
      ...(isSet(filter.from) ? { gte: filter.from } : {}),
      ...(isSet(filter.to) ? { lt: filter.to } : {}),
    };
  }
  if (isSet(filter.predictedClass)) where.predictedClass = filter.predictedClass;
  if (isSet(filter.minConfidence) || isSet(filter.maxConfidence)) {
    where.confidence = {
      ...(isSet(filter.minConfidence) ? { gte: filter.minConfidence } : {}),
      ...(isSet(filter.maxConfidence) ? { lte: filter.maxConfidence } : {}),
    };
  }
  if (isSet(filter.hasDebugStep)) where.debugStep = filter.hasDebugStep ? { isNot: null } : { is: null };
  return where;
}

/**
 * Rows strictly after the cursor in the given walking direction. The first condition is implied by
 * the second but is what lets the database seek: with the OR alone, SQLite scanned and sorted every
 * row of the endpoint for each page, and an export slowed as it went (300,000 rows: 19.6 s).
 */
export function afterCursor(cursor: Cursor, direction: 'asc' | 'desc'): Prisma.CaptureWhereInput {
  const time = new Date(cursor.time);
  const beyond = direction === 'desc' ? 'lt' : 'gt';
  return {
    inferenceTime: { [direction === 'desc' ? 'lte' : 'gte']: time },
    OR: [{ inferenceTime: { [beyond]: time } }, { inferenceTime: time, id: { [beyond]: cursor.id } }],
  };
}

export function keysetOrder(direction: 'asc' | 'desc'): Prisma.CaptureOrderByWithRelationInput[] {
  return [{ inferenceTime: direction }, { id: direction }];
}

function isSet<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}
