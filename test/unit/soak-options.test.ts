/** `npm run soak`'s arguments (test/soak/options.ts). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, parseOptions, UsageError } from '../soak/options.ts';

describe('soak options', () => {
  it('defaults to about two minutes, and takes --duration, --clients and --schedule-every', () => {
    expect(parseOptions([])).toEqual(DEFAULT_OPTIONS);
    expect(parseOptions(['--duration', '600', '--clients=2', '--schedule-every', '5'])).toEqual({
      durationS: 600,
      clients: 2,
      scheduleEveryS: 5,
    });
    expect(parseOptions(['--duration', '30', '--help'])).toBe('help');
  });

  it('refuses what it does not know, and values out of range', () => {
    for (const argv of [['--duration'], ['--duration', 'abc'], ['--duration', '5'], ['--clients', '0'], ['--fast']])
      expect(() => parseOptions(argv), argv.join(' ')).toThrow(UsageError);
  });
});
