/**
 * Decides per request whether it is captured: an independent draw at the endpoint's percentage, so
 * the captured share converges on it (±2 % over 10,000 requests at 50 %).
 */
import type { DataCaptureConfig } from '../endpoints/types.ts';

export type RandomSource = () => number;

export function shouldCapture(
  config: Pick<DataCaptureConfig, 'enabled' | 'samplingPercentage'>,
  random: RandomSource = Math.random,
): boolean {
  if (!config.enabled || config.samplingPercentage <= 0) return false;
  if (config.samplingPercentage >= 100) return true;
  return random() * 100 < config.samplingPercentage;
}
