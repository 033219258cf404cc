/**
 * An external check's violations: the `constraint_violations.json` its script wrote to output_path
 * (Model Monitor's spelling; `constraints_violations.json`, the write-up's, is read too), in Model
 * Monitor's shape:
 *
 *   {"violations": [{"feature_name": "…", "constraint_check_type": "baseline_drift_check", "description": "…"}]}
 *
 * A model-quality violation's `metric_name` stands for `feature_name`. No file means no violation
 * (the check passed); a file that is not this shape, or larger than the limits, fails the check.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Violation } from '../types.ts';
import { isWord } from './config.ts';

export const VIOLATION_FILES = ['constraint_violations.json', 'constraints_violations.json'] as const;
/** violations one check may report */
export const MAX_EXTERNAL_VIOLATIONS = 1000;
const MAX_FEATURE_NAME = 256;
const MAX_CHECK_TYPE = 64;
const MAX_DESCRIPTION = 4096;

/** the file's content is not Model Monitor's violations shape (or is too large) */
export class MalformedViolations extends Error {
  override name = 'MalformedViolations';
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/**
 * The violations in `outputPath` (none without a file). Both spellings present: their violations
 * together. Throws MalformedViolations for anything else than the shape above, or a file larger than
 * `maxBytes`.
 */
export async function readViolations(outputPath: string, maxBytes: number): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const name of VIOLATION_FILES) {
    const file = path.join(outputPath, name);
    const stat = await fs.lstat(file).catch(() => null);
    if (!stat) continue;
    if (!stat.isFile()) throw new MalformedViolations(`${name} is not a regular file`);
    if (stat.size > maxBytes)
      throw new MalformedViolations(`${name} is ${stat.size} bytes, more than the limit of ${maxBytes}`, true);
    violations.push(...parseViolations(await fs.readFile(file, 'utf8'), name));
    if (violations.length > MAX_EXTERNAL_VIOLATIONS)
      throw new MalformedViolations(`more than ${MAX_EXTERNAL_VIOLATIONS} violations`, true);
  }
  return violations;
}

/** `text` as Model Monitor's violations file; MalformedViolations naming what is wrong */
export function parseViolations(text: string, file: string = VIOLATION_FILES[0]): Violation[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedViolations(`${file} is not JSON: ${(error as Error).message}`);
  }
  const list = isObject(parsed) ? parsed.violations : undefined;
  if (!Array.isArray(list)) throw new MalformedViolations(`${file}: expected {"violations": [...]}`);
  if (list.length > MAX_EXTERNAL_VIOLATIONS)
    throw new MalformedViolations(
      `${file} lists ${list.length} violations, more than ${MAX_EXTERNAL_VIOLATIONS}`,
      true,
    );
  return list.map((item: unknown, i) => {
    const at = `${file}: violations[${i}]`;
    if (!isObject(item)) throw new MalformedViolations(`${at} is not an object`);
    const featureName = item.feature_name ?? item.metric_name;
    const checkType = item.constraint_check_type;
    const description = item.description;
    if (typeof featureName !== 'string' || featureName.length > MAX_FEATURE_NAME)
      throw new MalformedViolations(`${at}: feature_name (or metric_name) must be a string of ≤ ${MAX_FEATURE_NAME}`);
    if (typeof checkType !== 'string' || !isWord(checkType, MAX_CHECK_TYPE))
      throw new MalformedViolations(
        `${at}: constraint_check_type must be 1 to ${MAX_CHECK_TYPE} letters, digits or underscores`,
      );
    if (typeof description !== 'string' || description.length > MAX_DESCRIPTION)
      throw new MalformedViolations(`${at}: description must be a string of ≤ ${MAX_DESCRIPTION}`);
    return {
      check: 'EXTERNAL',
      featureName: withoutNul(featureName),
      constraintCheckType: checkType,
      description: withoutNul(description),
    };
  });
}

/** U+0000 (which JSON may spell \u0000, and PostgreSQL cannot store) as U+FFFD */
function withoutNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
