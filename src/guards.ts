/** Type guards for values that arrive as plain strings (environment, query strings, database columns). */

/** whether `value` is one of `allowed`, narrowing it to that union */
export function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
