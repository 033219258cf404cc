/**
 * Simple statistics of a request's image, measured where it is decoded (whylogs profiles images by
 * such values): brightness and contrast (mean and standard deviation of the luma), saturation (mean
 * HSV saturation), and the size as sent. Brightness, contrast and saturation are read from the image
 * resized for the model (the pixels it sees, a fixed count: cheap whatever the upload's size). Values
 * are 0–1 except width and height (pixels).
 */

export const IMAGE_STATISTICS = ['brightness', 'contrast', 'saturation', 'width', 'height', 'aspectRatio'] as const;
export type ImageStatistic = (typeof IMAGE_STATISTICS)[number];

export type ImageStats = Record<ImageStatistic, number>;

/** `resized`: packed RGB uint8; `width` × `height`: the image as received */
export function imageStats(resized: Uint8Array, width: number, height: number): ImageStats {
  const pixels = resized.length / 3;
  let luma = 0;
  let lumaSquared = 0;
  let saturation = 0;
  for (let i = 0; i < resized.length; i += 3) {
    const r = resized[i]!;
    const g = resized[i + 1]!;
    const b = resized[i + 2]!;
    const y = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    luma += y;
    lumaSquared += y * y;
    const max = Math.max(r, g, b);
    if (max > 0) saturation += (max - Math.min(r, g, b)) / max;
  }
  const mean = pixels ? luma / pixels : 0;
  return {
    brightness: round(mean),
    contrast: round(Math.sqrt(Math.max(0, (pixels ? lumaSquared / pixels : 0) - mean * mean))),
    saturation: round(pixels ? saturation / pixels : 0),
    width,
    height,
    aspectRatio: round(height > 0 ? width / height : 0),
  };
}

/** what a capture stores: the statistics as a small JSON object (the aspect ratio follows from the size) */
export function imageStatsText(stats: ImageStats): string {
  const { brightness, contrast, saturation, width, height } = stats;
  return JSON.stringify({ brightness, contrast, saturation, width, height });
}

/** a capture's stored statistics; null when absent or unreadable */
export function parseImageStats(text: string | null): ImageStats | null {
  if (!text) return null;
  try {
    const raw = JSON.parse(text) as Partial<Record<ImageStatistic, unknown>>;
    const { brightness, contrast, saturation, width, height } = raw;
    const values = [brightness, contrast, saturation, width, height];
    if (!values.every((v): v is number => typeof v === 'number' && Number.isFinite(v))) return null;
    const [b, c, s, w, h] = values as [number, number, number, number, number];
    return { brightness: b, contrast: c, saturation: s, width: w, height: h, aspectRatio: round(h > 0 ? w / h : 0) };
  } catch {
    return null;
  }
}

/** 5 decimals: far below what a drift test resolves, and short in JSON */
function round(value: number): number {
  return Math.round(value * 1e5) / 1e5;
}
