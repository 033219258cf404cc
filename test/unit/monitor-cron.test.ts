import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { cronExpression, nextRun, nextRuns, parseCron } from '../../src/monitor/schedules/cron.ts';

const at = (iso: string) => new Date(iso);
const next = (cron: string, after: string) => nextRun(parseCron(cron), at(after))?.toISOString();

describe('cron', () => {
  it('finds the next fire time, strictly after the given instant, in UTC', () => {
    expect(next('*/5 * * * *', '2026-11-26T02:03:10Z')).toBe('2026-11-26T02:05:00.000Z');
    expect(next('*/5 * * * *', '2026-11-26T02:05:00Z')).toBe('2026-11-26T02:10:00.000Z');
    expect(next('0 * * * *', '2026-11-26T02:00:00Z')).toBe('2026-11-26T03:00:00.000Z');
    expect(next('0 * * * *', '2026-11-26T23:59:59.999Z')).toBe('2026-11-27T00:00:00.000Z');
    expect(next('30 6 * * *', '2026-12-31T07:00:00Z')).toBe('2027-01-01T06:30:00.000Z');
    expect(next('0 9 * * 1-5', '2026-11-27T10:00:00Z')).toBe('2026-11-30T09:00:00.000Z'); // Friday → Monday
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('15,45 8-10/2 * * *', '2026-11-26T08:50:00Z')).toBe('2026-11-26T10:15:00.000Z');
    expect(next('0 12 * JAN,jul MON', '2026-11-26T00:00:00Z')).toBe('2027-01-04T12:00:00.000Z');
    expect(next('0 0 * * 7', '2026-11-26T00:00:00Z')).toBe('2026-11-29T00:00:00.000Z'); // 7 = Sunday
    expect(next('@daily', '2026-11-26T00:00:00Z')).toBe('2026-11-27T00:00:00.000Z');
    expect(next('5/20 * * * *', '2026-11-26T00:26:00Z')).toBe('2026-11-26T00:45:00.000Z');
  });

  it('matches either day field when both are restricted (Vixie cron)', () => {
    // the 13th, or any Friday: 2026-11-27 is a Friday, before the 13th of December
    expect(next('0 0 13 * 5', '2026-11-26T00:00:00Z')).toBe('2026-11-27T00:00:00.000Z');
    expect(nextRuns(parseCron('0 0 13 * 5'), at('2026-12-05T00:00:00Z'), 2).map((d) => d.toISOString())).toEqual([
      '2026-12-11T00:00:00.000Z',
      '2026-12-13T00:00:00.000Z',
    ]);
  });

  it('rejects invalid expressions with a ValidationError on the field', () => {
    const cases: [string, RegExp][] = [
      ['* * * *', /expected 5 fields .* got 4/],
      ['', /expected 5 fields/],
      ['60 * * * *', /minute value 60 is out of range 0–59/],
      ['* 24 * * *', /hour value 24 is out of range 0–23/],
      ['* * 0 * *', /day of month value 0/],
      ['* * * 13 *', /month value 13/],
      ['* * * * 8', /day of week value 8/],
      ['*/0 * * * *', /step '0'/],
      ['5-1 * * * *', /runs backwards/],
      ['a * * * *', /'a' is not a number/],
      ['1,,2 * * * *', /not a valid minute item/],
      ['0 0 30 2 *', /never fires/],
      ['0 0 31 4,6,9,11 *', /never fires/],
    ];
    for (const [cron, message] of cases) {
      let error: unknown;
      try {
        parseCron(cron);
      } catch (e) {
        error = e;
      }
      expect(error, cron).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('cron');
      expect((error as Error).message, cron).toMatch(message);
    }
  });

  it("builds the SageMaker CronExpressionGenerator's expressions", () => {
    expect(cronExpression('HOURLY')).toBe('0 * * * *');
    expect(cronExpression('DAILY')).toBe('0 0 * * *');
    expect(cronExpression('DAILY', { hour: 17 })).toBe('0 17 * * *');
    expect(cronExpression('EVERY_N_HOURS', { hours: 6, hour: 1 })).toBe('0 1/6 * * *');
    expect(nextRuns(parseCron('0 1/6 * * *'), at('2026-11-26T00:00:00Z'), 5).map((d) => d.getUTCHours())).toEqual([
      1, 7, 13, 19, 1,
    ]);
    expect(() => cronExpression('DAILY', { hour: 24 })).toThrow(/hour must be an integer from 0 to 23/);
    expect(() => cronExpression('EVERY_N_HOURS', {})).toThrow(/needs hours/);
    expect(() => cronExpression('EVERY_N_HOURS', { hours: 24 }, 'cronHelper.')).toThrow(ValidationError);
  });
});
