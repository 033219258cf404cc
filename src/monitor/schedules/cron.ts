/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week), evaluated in UTC, plus the
 * helpers of SageMaker's CronExpressionGenerator (hourly, daily at H, every N hours from H).
 *
 * Fields accept `*`, `n`, `a-b`, lists `a,b`, steps `*\/s`, `a-b/s` and `n/s`; months and weekdays
 * also by name (JAN, MON); weekday 7 is Sunday. As in Vixie cron, when both day fields are
 * restricted a day matches if either does. `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`
 * are accepted too.
 */
import { ValidationError } from '../../errors.ts';

export interface CronSchedule {
  expression: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** day-of-month and day-of-week are both restricted: a day matches if either does */
  eitherDay: boolean;
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

const ALIASES: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

/**
 * Longer than any real expression (every minute listed is 170 characters). Parsing costs a few
 * microseconds per list item, so an unbounded one (a variable may hold megabytes of `*,*,…`) held the
 * event loop for seconds.
 */
export const MAX_CRON_LENGTH = 1000;

/** Parses and checks that the expression ever fires; ValidationError on `field` otherwise. */
export function parseCron(expression: string, field = 'cron'): CronSchedule {
  if (expression.length > MAX_CRON_LENGTH) {
    throw new ValidationError(
      field,
      `Invalid cron expression: ${expression.length.toLocaleString('en')} characters, over the limit of ${MAX_CRON_LENGTH}`,
    );
  }
  const text = expression.trim();
  const fail = (why: string): never => {
    throw new ValidationError(field, `Invalid cron expression '${expression}': ${why}`);
  };
  const parts = (ALIASES[text.toLowerCase()] ?? text).split(/\s+/);
  if (parts.length !== 5 || parts[0] === '') {
    fail(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts[0] === '' ? 0 : parts.length}`);
  }
  const sets = parts.map((part, i) => parseField(part, FIELDS[i]!, fail));
  const weekdays = new Set([...sets[4]!].map((d) => d % 7));
  const schedule: CronSchedule = {
    expression: text,
    minutes: sets[0]!,
    hours: sets[1]!,
    days: sets[2]!,
    months: sets[3]!,
    weekdays,
    daysRestricted: parts[2] !== '*',
    weekdaysRestricted: parts[4] !== '*',
    eitherDay: parts[2] !== '*' && parts[4] !== '*',
  };
  if (!nextRun(schedule, new Date(Date.UTC(2000, 0, 1)))) fail('it never fires (no such date)');
  return schedule;
}

function parseField(part: string, spec: (typeof FIELDS)[number], fail: (why: string) => never): Set<number> {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = 'names' in spec ? (spec.names as readonly string[]).indexOf(token.toUpperCase()) : -1;
    if (named >= 0) return named + (spec.name === 'month' ? 1 : 0);
    if (!/^\d+$/.test(token)) fail(`${spec.name} value '${token}' is not a number`);
    const n = Number(token);
    if (n < spec.min || n > spec.max) fail(`${spec.name} value ${n} is out of range ${spec.min}–${spec.max}`);
    return n;
  };
  for (const item of part.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === '' || range === undefined) fail(`'${item}' is not a valid ${spec.name} item`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        fail(`step '${stepText}' in the ${spec.name} field must be a positive integer`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      [from, to] = [spec.min, spec.max];
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      from = value(a ?? '');
      to = value(b ?? '');
      if (from > to) fail(`${spec.name} range ${range} runs backwards`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : spec.max;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}

function dayMatches(s: CronSchedule, date: Date): boolean {
  const dom = s.days.has(date.getUTCDate());
  const dow = s.weekdays.has(date.getUTCDay());
  if (s.eitherDay) return dom || dow;
  return (!s.daysRestricted || dom) && (!s.weekdaysRestricted || dow);
}

/** The first instant strictly after `after` (to the minute) at which the schedule fires; null if none within 5 years. */
export function nextRun(schedule: CronSchedule, after: Date): Date | null {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = after.getTime() + 5 * 366 * 86_400_000;
  while (t.getTime() <= limit) {
    if (!schedule.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(schedule, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!schedule.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!schedule.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else {
      return t;
    }
  }
  return null;
}

/** the next `count` fire times after `after` */
export function nextRuns(schedule: CronSchedule, after: Date, count: number): Date[] {
  const runs: Date[] = [];
  let at: Date | null = after;
  while (runs.length < count && (at = nextRun(schedule, at))) runs.push(at);
  return runs;
}

export type CronKind = 'HOURLY' | 'DAILY' | 'EVERY_N_HOURS';

/**
 * SageMaker's CronExpressionGenerator in 5-field form: hourly() → `0 * * * *`; daily(hour) →
 * `0 H * * *`; daily_every_x_hours(hours, starting_hour) → `0 H/N * * *`.
 */
export function cronExpression(
  kind: CronKind,
  options: { hour?: number | null; hours?: number | null } = {},
  fieldPrefix = '',
): string {
  const hour = options.hour ?? 0;
  if (!Number.isInteger(hour) || hour < 0 || hour > 23)
    throw new ValidationError(`${fieldPrefix}hour`, `hour must be an integer from 0 to 23, got ${hour}`);
  switch (kind) {
    case 'HOURLY':
      return '0 * * * *';
    case 'DAILY':
      return `0 ${hour} * * *`;
    case 'EVERY_N_HOURS': {
      const hours = options.hours;
      if (hours === null || hours === undefined)
        throw new ValidationError(`${fieldPrefix}hours`, 'EVERY_N_HOURS needs hours (1–23)');
      if (!Number.isInteger(hours) || hours < 1 || hours > 23) {
        throw new ValidationError(`${fieldPrefix}hours`, `hours must be an integer from 1 to 23, got ${hours}`);
      }
      return `0 ${hour}/${hours} * * *`;
    }
  }
}
