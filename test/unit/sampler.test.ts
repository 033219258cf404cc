import { describe, expect, it } from 'vitest';
import { shouldCapture } from '../../src/capture/sampler.ts';

const config = (samplingPercentage: number, enabled = true) => ({
  enabled,
  samplingPercentage,
  captureMode: 'BOTH' as const,
});

describe('capture sampling', () => {
  it('captures an honest share: 10,000 requests at 50 % land within ±2 %', () => {
    let captured = 0;
    for (let i = 0; i < 10_000; i++) if (shouldCapture(config(50))) captured++;
    expect(Math.abs(captured / 10_000 - 0.5)).toBeLessThanOrEqual(0.02);
  });

  it.each([5, 33.3, 90])('tracks %d % within four standard deviations', (pct) => {
    const n = 10_000;
    let captured = 0;
    for (let i = 0; i < n; i++) if (shouldCapture(config(pct))) captured++;
    const p = pct / 100;
    expect(Math.abs(captured / n - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / n));
  });

  it('never captures when disabled or at 0 %, always at 100 %', () => {
    const draws = [0, 0.5, 0.999999];
    for (const r of draws) {
      expect(shouldCapture(config(100, false), () => r)).toBe(false);
      expect(shouldCapture(config(0), () => r)).toBe(false);
      expect(shouldCapture(config(100), () => r)).toBe(true);
    }
  });

  it('draws independently per request', () => {
    expect(shouldCapture(config(50), () => 0.49)).toBe(true);
    expect(shouldCapture(config(50), () => 0.5)).toBe(false);
  });
});
