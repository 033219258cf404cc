/**
 * The figures as pictures: each decodes as a PNG of its stated size; the circle of interest is drawn
 * where background.ts puts its boundary (a pixel on it has the circle's colour, pixels well inside and
 * outside do not); the difference is on a symmetric scale; text is escaped.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { backgroundSaliency } from '../../src/explain/background.ts';
import type { RgbImage } from '../../src/explain/render.ts';
import {
  ADVERSARIAL_FIGURE_HEIGHT,
  ADVERSARIAL_FIGURE_WIDTH,
  adversarialFigure,
  CIRCLE_COLOUR,
  COMPARISON_FIGURE_HEIGHT,
  COMPARISON_FIGURE_WIDTH,
  comparisonFigure,
  differenceImage,
  divergingColour,
  PANEL,
  predictedTitle,
  predictionGrid,
  predictionGridSize,
  SALIENCY_FIGURE_HEIGHT,
  SALIENCY_FIGURE_WIDTH,
  saliencyFigure,
  truncate,
} from '../../src/figures/render.ts';
import { fixture } from '../helpers/images.ts';

async function rgbOf(name: string): Promise<RgbImage> {
  const rgb = await sharp(fixture(name)).removeAlpha().resize(128, 128, { fit: 'fill' }).raw().toBuffer();
  return { width: 128, height: 128, rgb: new Uint8Array(rgb) };
}

async function decoded(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const pixel = (x: number, y: number) =>
    Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
  return { info, pixel };
}

/** a map whose maximum lies at (x, y) of 128 × 128 */
function blob(x0: number, y0: number): { width: number; height: number; values: Float32Array } {
  const values = new Float32Array(128 * 128);
  for (let y = 0; y < 128; y++)
    for (let x = 0; x < 128; x++) values[y * 128 + x] = Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / 200);
  return { width: 128, height: 128, values };
}

const circle = [...CIRCLE_COLOUR];
/** MARGIN + TITLE of render.ts: where the panels start */
const TOP = 16 + 44;
const left = (i: number) => 16 + i * (PANEL + 16);

describe('figures', () => {
  it('draws the three-panel saliency figure at its size, the circle of interest on the overlay and the heatmap', async () => {
    const input = await rgbOf('stop_like_octagon.png');
    const centred = blob(64, 64);
    const figure = await saliencyFigure({
      input,
      map: centred,
      classId: 14,
      label: 'Stop',
      confidence: 0.97,
      method: 'FULLGRAD',
      background: backgroundSaliency(centred.values, 128, 128),
    });
    expect([figure.width, figure.height]).toEqual([SALIENCY_FIGURE_WIDTH, SALIENCY_FIGURE_HEIGHT]);
    const { info, pixel } = await decoded(figure.png);
    expect(info).toMatchObject({ format: 'raw', width: SALIENCY_FIGURE_WIDTH, height: SALIENCY_FIGURE_HEIGHT });
    expect((await sharp(figure.png).metadata()).format).toBe('png');

    const radius = 0.4 * PANEL;
    for (const panel of [1, 2]) {
      const cx = left(panel) + PANEL / 2;
      const cy = TOP + PANEL / 2;
      // on the circle: right, left, top and bottom of it
      for (const [x, y] of [
        [cx + radius, cy],
        [cx - radius, cy],
        [cx, cy - radius],
        [cx, cy + radius],
      ] as const)
        expect(pixel(Math.floor(x), Math.floor(y)), `panel ${panel} at ${x},${y}`).toEqual(circle);
      // off it: the centre, and 10 px inside and outside the ring
      for (const [x, y] of [
        [cx, cy],
        [cx + radius - 10, cy],
        [cx + radius + 10, cy],
      ] as const)
        expect(pixel(Math.floor(x), Math.floor(y)), `panel ${panel} at ${x},${y}`).not.toEqual(circle);
    }
    // the input panel has no circle
    expect(pixel(Math.floor(left(0) + PANEL / 2 + radius), TOP + PANEL / 2)).not.toEqual(circle);
  });

  it("follows the background check's radius, and writes the warning and the sanity line when given", async () => {
    const corner = blob(16, 16);
    const background = backgroundSaliency(corner.values, 128, 128, { radius: 0.25 });
    expect(background.flagged).toBe(true);
    const figure = await saliencyFigure({
      input: await rgbOf('warning_triangle.png'),
      map: corner,
      classId: 11,
      label: 'Right-of-way at the next intersection',
      confidence: 0.5,
      predictedClass: 11,
      method: 'INPUT_X_GRADIENT',
      background,
      sanity: { blankRankCorrelation: 0.91, noiseRankCorrelation: 0.88, dependsOnInput: false },
    });
    const { pixel } = await decoded(figure.png);
    const cx = left(1) + PANEL / 2;
    expect(pixel(Math.floor(cx + 0.25 * PANEL), TOP + PANEL / 2)).toEqual(circle);
    expect(pixel(Math.floor(cx + 0.4 * PANEL), TOP + PANEL / 2)).not.toEqual(circle);
    // the warning is drawn in red below the panels: some pixels of that line are red
    const warningRow = Array.from({ length: 300 }, (_, i) => pixel(16 + i, TOP + PANEL + 12));
    expect(warningRow.some(([r, g, b]) => r! > 150 && g! < 100 && b! < 100)).toBe(true);
  });

  it('draws original | adversarial | difference at its size, the difference on a symmetric scale', async () => {
    const original = await rgbOf('warning_triangle.png');
    original.rgb.fill(100, 0, 6);
    const rgb = Uint8Array.from(original.rgb);
    rgb.set([130, 100, 100], 0); // the first pixel up: mean +10 over RGB
    rgb.set([95, 95, 95], 3); // the second down: −5
    const adversarial = { ...original, rgb };
    const { image, scale } = differenceImage(original, adversarial);
    expect(scale).toBeCloseTo(10, 5);
    expect(Array.from(image.rgb.subarray(0, 3))).toEqual(divergingColour(1));
    expect(Array.from(image.rgb.subarray(3, 6))).toEqual(divergingColour(-0.5));
    expect(Array.from(image.rgb.subarray(6, 9))).toEqual(divergingColour(0));
    // the scale is symmetric: ±t are mirror colours, 0 is the near-white middle
    expect(divergingColour(0)).toEqual([247, 247, 247]);
    expect(divergingColour(-1)).toEqual([5, 48, 97]);
    expect(divergingColour(1)).toEqual([103, 0, 31]);

    const figure = await adversarialFigure({
      original,
      adversarial,
      originalClass: 18,
      originalLabel: 'General caution',
      adversarialClass: 14,
      adversarialLabel: 'Stop',
      adversarialConfidence: 0.61,
      l2: 33.5,
      linf: 30,
    });
    expect([figure.width, figure.height]).toEqual([ADVERSARIAL_FIGURE_WIDTH, ADVERSARIAL_FIGURE_HEIGHT]);
    const { info, pixel } = await decoded(figure.png);
    expect([info.width, info.height]).toEqual([ADVERSARIAL_FIGURE_WIDTH, ADVERSARIAL_FIGURE_HEIGHT]);
    // the difference panel's first pixel (2 × 2 display pixels) is the scale's top colour
    expect(pixel(left(2), TOP)).toEqual(divergingColour(1));
    expect(pixel(left(2) + 1, TOP + 1)).toEqual(divergingColour(1));
  });

  it('draws the prediction grid at the size its count and columns give, and escapes its text', async () => {
    const images = await Promise.all(['stop_like_octagon.png', 'noise.png', 'gradient_128.png'].map(rgbOf));
    const items = [...images, ...images, images[0]!].map((image, i) => ({
      image,
      classId: i,
      label: i === 0 ? '<script>&"</script>' : 'End of no passing by vehicles over 3.5 metric tons',
      confidence: i === 1 ? null : 0.5 + i / 20,
    }));
    const figure = await predictionGrid(items, 'Predictions <&>', 3);
    const size = predictionGridSize(7, 3);
    expect(size.columns).toBe(3);
    expect([figure.width, figure.height]).toEqual([size.width, size.height]);
    const meta = await sharp(figure.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', size.width, size.height]);
    expect(predictionGridSize(7, 3).height).toBeGreaterThan(predictionGridSize(3, 3).height);
    await expect(predictionGrid([], 'none')).rejects.toThrow(RangeError);
  });

  it('draws the comparison of two explained images at its size', async () => {
    const map = blob(64, 64);
    const background = backgroundSaliency(map.values, 128, 128);
    const side = async (heading: string, name: string, classId: number) => ({
      heading,
      input: await rgbOf(name),
      map,
      classId,
      label: `class ${classId}`,
      predicted: { classId, label: `class ${classId}`, confidence: 0.8 },
      background,
    });
    const figure = await comparisonFigure(
      [await side('Clean', 'warning_triangle.png', 18), await side('Adversarial', 'noise.png', 14)],
      { method: 'FULLGRAD' },
    );
    const meta = await sharp(figure.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', COMPARISON_FIGURE_WIDTH, COMPARISON_FIGURE_HEIGHT]);
  });

  it('titles an overlay as the write-up does, and truncates by characters', () => {
    expect(predictedTitle(14, 'Stop', 0.9712)).toBe("Predicted '14' (Stop), 97%");
    expect(predictedTitle(14, 'Stop', 0.9962)).toBe("Predicted '14' (Stop), 99.6%");
    expect(predictedTitle(14, 'Stop', null)).toBe("Predicted '14' (Stop)");
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
});
