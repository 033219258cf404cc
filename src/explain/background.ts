/**
 * The write-up's "background saliency" check: a traffic sign sits near the middle of its crop, so a map
 * whose strongest values lie outside a centred circle suggests the prediction leans on background
 * context (a pole, the sky, a neighbouring sign) rather than the sign.
 *
 * The map is min-max normalised to [0, 1]; pixels whose centre lies farther than radius · min(W, H) from
 * the image centre are "background"; the check is flagged when their maximum reaches the threshold.
 */
import { mapRange } from './fullgrad.ts';

export const DEFAULT_BACKGROUND_RADIUS = 0.4;
export const DEFAULT_BACKGROUND_THRESHOLD = 0.85;

export const BACKGROUND_MESSAGE = 'prediction may be attending to unreliable background context';

export interface BackgroundOptions {
  /** circle radius as a fraction of the map's smaller side (default 0.4) */
  radius?: number;
  /** flagged when the background maximum is ≥ this (default 0.85) */
  threshold?: number;
}

export interface BackgroundSaliency {
  /** maximum of the normalised map outside the circle */
  max: number;
  /** mean of the normalised map outside the circle */
  mean: number;
  flagged: boolean;
  /** set when flagged */
  message: string | null;
  radius: number;
  threshold: number;
  /** pixels outside the circle */
  pixels: number;
}

export function backgroundSaliency(
  values: ArrayLike<number>,
  width: number,
  height: number,
  options: BackgroundOptions = {},
): BackgroundSaliency {
  const radius = options.radius ?? DEFAULT_BACKGROUND_RADIUS;
  const threshold = options.threshold ?? DEFAULT_BACKGROUND_THRESHOLD;
  if (values.length !== width * height)
    throw new Error(`map holds ${values.length} values, expected ${width}×${height}`);
  const { min: lo, max: hi } = mapRange(values);
  // a constant map carries no spatial preference: it normalises to zeros
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  const r = radius * Math.min(width, height);
  const r2 = r * r;
  const cx = width / 2;
  const cy = height / 2;
  let max = 0;
  let sum = 0;
  let pixels = 0;
  for (let y = 0; y < height; y++) {
    const dy = y + 0.5 - cy;
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) continue;
      const v = (values[y * width + x]! - lo) * scale;
      if (v > max) max = v;
      sum += v;
      pixels++;
    }
  }
  const mean = pixels ? sum / pixels : 0;
  const flagged = pixels > 0 && max >= threshold;
  return {
    max,
    mean,
    flagged,
    message: flagged
      ? `${BACKGROUND_MESSAGE}: normalised saliency reaches ${max.toFixed(2)} outside the centred circle of radius ${radius} (threshold ${threshold})`
      : null,
    radius,
    threshold,
    pixels,
  };
}
