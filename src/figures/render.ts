/**
 * The write-up's figures as PNGs: pure functions of decoded images and maps, no database, no model.
 * Each figure is drawn in two layers: an SVG (text, frames, the colour bar) that librsvg rasterises
 * through sharp, with the image panels composited over it pixel for pixel (no resampling by the SVG
 * renderer), then an SVG foreground (the circle of interest) on top. Every text put in the SVG is
 * escaped; fonts are the system's generic sans-serif (none is downloaded).
 *
 * Sizes are fixed by the figure's kind (and, for the grid, its cell count and columns): see
 * `*_FIGURE_*` and `predictionGridSize`.
 */
import sharp from 'sharp';
import type { BackgroundSaliency } from '../explain/background.ts';
import type { Colormap } from '../explain/colormap.ts';
import { baseImageRgb, blend, heatmapRgb, type MapImage, type RgbImage } from '../explain/render.ts';
import { escapeXml } from '../monitor/executions/class-chart.ts';

/** width and height of one image panel (the 128×128 input shown at twice its size) */
export const PANEL = 256;
/** the circle of interest's colour: a magenta no colormap (JET, VIRIDIS, INFERNO, GRAY) holds */
export const CIRCLE_COLOUR = [255, 0, 255] as const;
const CIRCLE_STROKE = 3;
const FONT = 'DejaVu Sans, Arial, sans-serif';
const MARGIN = 16;
const GAP = 16;
/** the space above a panel for its title */
const TITLE = 44;
/** one line of notes under the panels */
const NOTE_LINE = 20;
const PNG_OPTIONS = { compressionLevel: 6 } as const;

/** the optional sanity check of a map (rank correlations with the same method's maps of a blank and a noise image) */
export interface SanityNote {
  blankRankCorrelation: number;
  noiseRankCorrelation: number;
  dependsOnInput: boolean;
}

export interface Figure {
  png: Buffer;
  width: number;
  height: number;
}

interface Panel {
  rgb: Uint8Array;
  width: number;
  height: number;
  left: number;
  top: number;
}

/** an SVG document of width × height on white, holding `body` */
function svg(width: number, height: number, body: string[], background = '#ffffff'): Buffer {
  const fill = background === 'none' ? '' : `<rect width="${width}" height="${height}" fill="${background}"/>`;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">${fill}${body.join('')}</svg>`,
  );
}

function text(
  x: number,
  y: number,
  content: string,
  options: { size?: number; anchor?: 'start' | 'middle' | 'end'; fill?: string; weight?: 'bold' } = {},
): string {
  const { size = 13, anchor = 'middle', fill = '#222', weight } = options;
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" text-anchor="${anchor}" fill="${fill}"${weight ? ` font-weight="${weight}"` : ''}>${escapeXml(content)}</text>`;
}

/** at most `max` characters, the rest replaced by an ellipsis (text is measured by count: no font metrics here) */
export function truncate(content: string, max: number): string {
  const chars = Array.from(content);
  return chars.length <= max ? content : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** characters of 13 px sans-serif text that fit in `width` pixels (a conservative average advance) */
const fits = (width: number, size = 13) => Math.floor(width / (size * 0.56));

/** background SVG, panels composited over it, an optional foreground SVG on top; RGB PNG */
async function compose(width: number, height: number, back: Buffer, panels: Panel[], front?: Buffer): Promise<Buffer> {
  const layers: sharp.OverlayOptions[] = panels.map((p) => ({
    input: Buffer.from(p.rgb.buffer, p.rgb.byteOffset, p.rgb.byteLength),
    raw: { width: p.width, height: p.height, channels: 3 },
    left: p.left,
    top: p.top,
  }));
  if (front) layers.push({ input: front, left: 0, top: 0 });
  const { data, info } = await sharp(back).composite(layers).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height) throw new Error('figure layers did not rasterise to its size');
  return sharp(data, { raw: { width, height, channels: info.channels } })
    .removeAlpha()
    .png(PNG_OPTIONS)
    .toBuffer();
}

/** an image scaled to size × size: nearest neighbour when it is the panel's whole multiple (crisp pixels), else bilinear */
async function scaled(image: RgbImage, size: number): Promise<Uint8Array> {
  if (image.width === size && image.height === size) return image.rgb;
  const nearest = size % image.width === 0 && size % image.height === 0;
  const rgb = await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size, size, { fit: 'fill', kernel: nearest ? 'nearest' : 'linear' })
    .raw()
    .toBuffer();
  return rgb;
}

/** the circle of interest of a panel: centred, radius a fraction of its side (background.ts's region) */
function circle(left: number, top: number, size: number, radius: number): string {
  const [r, g, b] = CIRCLE_COLOUR;
  return `<circle cx="${left + size / 2}" cy="${top + size / 2}" r="${(radius * size).toFixed(2)}" fill="none" stroke="rgb(${r},${g},${b})" stroke-width="${CIRCLE_STROKE}"/>`;
}

function frame(left: number, top: number, width: number, height: number): string {
  return `<rect x="${left - 0.5}" y="${top - 0.5}" width="${width + 1}" height="${height + 1}" fill="none" stroke="#bbbbbb"/>`;
}

/** 'k' (name), as the write-up titles a class */
export function className(classId: number, label: string): string {
  return `'${classId}' (${label})`;
}

export const percent = (p: number) => `${(p * 100).toFixed(p >= 0.995 && p < 1 ? 1 : 0)}%`;

// ---------------------------------------------------------------------------------------------------
// prediction grid

export interface GridItem {
  image: RgbImage;
  classId: number;
  label: string;
  /** softmax probability of the predicted class, when known */
  confidence: number | null;
}

export const GRID_CELL = 128;
const GRID_CELL_WIDTH = 176;
const GRID_CELL_HEIGHT = GRID_CELL + 48;
export const MAX_GRID_ITEMS = 36;
export const MAX_GRID_COLUMNS = 8;

export function predictionGridSize(count: number, columns: number): { width: number; height: number; columns: number } {
  const cols = Math.max(1, Math.min(columns, count, MAX_GRID_COLUMNS));
  const rows = Math.max(1, Math.ceil(count / cols));
  return { columns: cols, width: 2 * MARGIN + cols * GRID_CELL_WIDTH, height: 40 + rows * GRID_CELL_HEIGHT + MARGIN };
}

/** images in rows of `columns`, each titled with its predicted sign name (and class and confidence) */
export async function predictionGrid(items: readonly GridItem[], title: string, columns = 6): Promise<Figure> {
  if (items.length === 0 || items.length > MAX_GRID_ITEMS)
    throw new RangeError(`a prediction grid holds 1 to ${MAX_GRID_ITEMS} images, got ${items.length}`);
  const size = predictionGridSize(items.length, columns);
  const body = [text(size.width / 2, 26, truncate(title, fits(size.width - 2 * MARGIN, 15)), { size: 15 })];
  const panels: Panel[] = [];
  await Promise.all(
    items.map(async (item, i) => {
      const col = i % size.columns;
      const row = Math.floor(i / size.columns);
      const x = MARGIN + col * GRID_CELL_WIDTH;
      const y = 40 + row * GRID_CELL_HEIGHT;
      const cx = x + GRID_CELL_WIDTH / 2;
      body.push(
        text(cx, y + 14, truncate(item.label, fits(GRID_CELL_WIDTH - 8, 12)), { size: 12, weight: 'bold' }),
        text(
          cx,
          y + 30,
          item.confidence === null ? `class ${item.classId}` : `class ${item.classId} · ${percent(item.confidence)}`,
          { size: 11, fill: '#555' },
        ),
      );
      const left = Math.round(cx - GRID_CELL / 2);
      body.push(frame(left, y + 38, GRID_CELL, GRID_CELL));
      panels[i] = { rgb: await scaled(item.image, GRID_CELL), width: GRID_CELL, height: GRID_CELL, left, top: y + 38 };
    }),
  );
  return { png: await compose(size.width, size.height, svg(size.width, size.height, body), panels), ...size };
}

// ---------------------------------------------------------------------------------------------------
// original | adversarial | difference

export interface AdversarialFigureInput {
  /** the image as the model saw it (after preprocessing) */
  original: RgbImage;
  adversarial: RgbImage;
  originalClass: number;
  originalLabel: string;
  adversarialClass: number;
  adversarialLabel: string;
  /** softmax probability of the adversarial class, when known */
  adversarialConfidence?: number | null;
  l2?: number | null;
  linf?: number | null;
}

const BAR_WIDTH = 18;
const BAR_SPACE = 84;
export const ADVERSARIAL_FIGURE_WIDTH = 2 * MARGIN + 3 * PANEL + 2 * GAP + BAR_SPACE;
export const ADVERSARIAL_FIGURE_HEIGHT = MARGIN + TITLE + PANEL + NOTE_LINE + MARGIN;

/** RdBu reversed: −1 dark blue, 0 near white, +1 dark red */
const DIVERGING: readonly (readonly [number, number, number])[] = [
  [5, 48, 97],
  [67, 147, 195],
  [247, 247, 247],
  [214, 96, 77],
  [103, 0, 31],
];

/** t in [−1, 1] (clamped) → RGB on the symmetric diverging scale */
export function divergingColour(t: number): [number, number, number] {
  const u = ((Math.min(1, Math.max(-1, t)) + 1) / 2) * (DIVERGING.length - 1);
  const i = Math.min(DIVERGING.length - 2, Math.floor(u));
  const f = u - i;
  const a = DIVERGING[i]!;
  const b = DIVERGING[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/**
 * The perturbation, per pixel the mean over channels of adversarial − original in pixel levels, on a
 * symmetric scale ±`scale` (the largest |mean|, at least 1 level), as packed RGB.
 */
export function differenceImage(original: RgbImage, adversarial: RgbImage): { image: RgbImage; scale: number } {
  if (original.width !== adversarial.width || original.height !== adversarial.height)
    throw new RangeError('original and adversarial images differ in size');
  const n = original.width * original.height;
  const mean = new Float64Array(n);
  let scale = 1;
  for (let p = 0; p < n; p++) {
    let d = 0;
    for (let c = 0; c < 3; c++) d += adversarial.rgb[p * 3 + c]! - original.rgb[p * 3 + c]!;
    mean[p] = d / 3;
    scale = Math.max(scale, Math.abs(mean[p]!));
  }
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) rgb.set(divergingColour(mean[p]! / scale), p * 3);
  return { image: { width: original.width, height: original.height, rgb }, scale };
}

function colourBar(x: number, top: number, height: number, scale: number): string[] {
  const stops = DIVERGING.map(
    (c, i) => `<stop offset="${i / (DIVERGING.length - 1)}" stop-color="rgb(${c.join(',')})"/>`,
  ).join('');
  const parts = [
    `<defs><linearGradient id="diverging" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`,
    `<rect x="${x}" y="${top}" width="${BAR_WIDTH}" height="${height}" fill="url(#diverging)" stroke="#888" stroke-width="0.5"/>`,
  ];
  for (const f of [-1, 0, 1]) {
    const y = top + height / 2 - (f * height) / 2;
    const value = f * scale;
    parts.push(
      `<line x1="${x + BAR_WIDTH}" x2="${x + BAR_WIDTH + 5}" y1="${y}" y2="${y}" stroke="#888"/>`,
      text(x + BAR_WIDTH + 8, y + 4, `${value > 0 ? '+' : ''}${value.toFixed(1)}`, { size: 11, anchor: 'start' }),
    );
  }
  parts.push(text(x + BAR_WIDTH + 8, top + height + 18, 'levels', { size: 10, anchor: 'start', fill: '#555' }));
  return parts;
}

export async function adversarialFigure(input: AdversarialFigureInput): Promise<Figure> {
  const W = ADVERSARIAL_FIGURE_WIDTH;
  const H = ADVERSARIAL_FIGURE_HEIGHT;
  const { image: difference, scale } = differenceImage(input.original, input.adversarial);
  const top = MARGIN + TITLE;
  const lefts = [0, 1, 2].map((i) => MARGIN + i * (PANEL + GAP));
  const chars = fits(PANEL, 13);
  const confidence = input.adversarialConfidence == null ? '' : `, ${percent(input.adversarialConfidence)}`;
  const titles = [
    ['Original', `Model prediction: ${input.originalLabel}`],
    ['Adversarial', `Model prediction: ${input.adversarialLabel}${confidence}`],
    ['Difference', 'adversarial − original (RGB mean)'],
  ];
  const body: string[] = [];
  titles.forEach(([heading, line], i) => {
    const cx = lefts[i]! + PANEL / 2;
    body.push(
      text(cx, MARGIN + 14, truncate(heading!, chars), { weight: 'bold' }),
      text(cx, MARGIN + 32, truncate(line!, chars), { size: 12, fill: '#333' }),
      frame(lefts[i]!, top, PANEL, PANEL),
    );
  });
  body.push(...colourBar(lefts[2]! + PANEL + 14, top + 8, PANEL - 32, scale));
  const norms = [
    `class ${input.originalClass} → ${input.adversarialClass}`,
    input.linf == null ? null : `L∞ ${input.linf.toFixed(1)}`,
    input.l2 == null ? null : `L2 ${input.l2.toFixed(1)} (pixel levels)`,
  ].filter((s) => s !== null);
  body.push(text(W / 2, top + PANEL + 16, norms.join(' · '), { size: 12, fill: '#555' }));
  const panels = await Promise.all(
    [input.original, input.adversarial, difference].map(async (image, i) => ({
      rgb: await scaled(image, PANEL),
      width: PANEL,
      height: PANEL,
      left: lefts[i]!,
      top,
    })),
  );
  return { png: await compose(W, H, svg(W, H, body), panels), width: W, height: H };
}

// ---------------------------------------------------------------------------------------------------
// saliency: input | overlay | heatmap

export interface SaliencyFigureInput {
  /** the image explained */
  input: RgbImage;
  map: MapImage;
  classId: number;
  label: string;
  /** softmax probability of the explained class, when known */
  confidence: number | null;
  /** the class the model predicts, when known: the overlay's title says so when another class is explained */
  predictedClass?: number | null | undefined;
  /** the method's name, for the heatmap's title */
  method: string;
  background: BackgroundSaliency;
  sanity?: SanityNote | null | undefined;
  colormap?: Colormap;
  opacity?: number;
}

export const SALIENCY_FIGURE_WIDTH = 2 * MARGIN + 3 * PANEL + 2 * GAP;
export const SALIENCY_FIGURE_HEIGHT = MARGIN + TITLE + PANEL + 2 * NOTE_LINE + MARGIN;

/** `Predicted 'k' (name), NN%` — the write-up's overlay title */
export function predictedTitle(classId: number, label: string, confidence: number | null): string {
  return `Predicted ${className(classId, label)}${confidence === null ? '' : `, ${percent(confidence)}`}`;
}

export function sanityLine(sanity: SanityNote): string {
  const verdict = sanity.dependsOnInput ? 'depends on the image' : 'depends little on the image';
  return `Sanity check: rank ρ ${sanity.blankRankCorrelation.toFixed(2)} with a blank image's map, ${sanity.noiseRankCorrelation.toFixed(2)} with a noise image's: ${verdict}`;
}

export function backgroundLine(background: BackgroundSaliency, short = false): string {
  if (short)
    return background.flagged
      ? `Warning: background holds the saliency (max ${background.max.toFixed(2)} ≥ ${background.threshold})`
      : `Background max ${background.max.toFixed(2)} < ${background.threshold}`;
  return background.flagged
    ? `Warning: the background holds the saliency (max ${background.max.toFixed(2)} outside the circle, threshold ${background.threshold})`
    : `Saliency outside the circle: max ${background.max.toFixed(2)} (below the threshold ${background.threshold})`;
}

/** the input, its overlay and its heatmap as size × size packed RGB */
async function saliencyPanels(input: RgbImage, map: MapImage, colormap: Colormap, opacity: number) {
  const image = await baseImageRgb({ kind: 'rgb', image: input }, PANEL);
  const heat = heatmapRgb(map, colormap, PANEL);
  return { image: await scaled(input, PANEL), overlay: blend(image, heat, opacity), heat };
}

export async function saliencyFigure(input: SaliencyFigureInput): Promise<Figure> {
  const W = SALIENCY_FIGURE_WIDTH;
  const H = SALIENCY_FIGURE_HEIGHT;
  const top = MARGIN + TITLE;
  const lefts = [0, 1, 2].map((i) => MARGIN + i * (PANEL + GAP));
  const { image, overlay, heat } = await saliencyPanels(
    input.input,
    input.map,
    input.colormap ?? 'JET',
    input.opacity ?? 0.5,
  );
  const chars = fits(PANEL, 13);
  const titles = [
    'Input',
    input.predictedClass == null || input.predictedClass === input.classId
      ? predictedTitle(input.classId, input.label, input.confidence)
      : `Class ${className(input.classId, input.label)}${input.confidence === null ? '' : `, ${percent(input.confidence)}`} (predicted '${input.predictedClass}')`,
    `Saliency (${input.method.toLowerCase()})`,
  ];
  const body: string[] = [];
  titles.forEach((title, i) => {
    body.push(
      text(lefts[i]! + PANEL / 2, MARGIN + 24, truncate(title, chars), { weight: i === 1 ? 'bold' : undefined }),
    );
    body.push(frame(lefts[i]!, top, PANEL, PANEL));
  });
  const flagged = input.background.flagged;
  const lineChars = fits(W - 2 * MARGIN, 12);
  body.push(
    text(MARGIN, top + PANEL + 16, truncate(backgroundLine(input.background), lineChars), {
      size: 12,
      anchor: 'start',
      fill: flagged ? '#c0392b' : '#555',
      weight: flagged ? 'bold' : undefined,
    }),
  );
  if (input.sanity)
    body.push(
      text(MARGIN, top + PANEL + 16 + NOTE_LINE, truncate(sanityLine(input.sanity), lineChars), {
        size: 12,
        anchor: 'start',
        fill: input.sanity.dependsOnInput ? '#555' : '#c0392b',
      }),
    );
  const radius = input.background.radius;
  const front = svg(W, H, [circle(lefts[1]!, top, PANEL, radius), circle(lefts[2]!, top, PANEL, radius)], 'none');
  const panels = [image, overlay, heat].map((rgb, i) => ({ rgb, width: PANEL, height: PANEL, left: lefts[i]!, top }));
  return { png: await compose(W, H, svg(W, H, body), panels, front), width: W, height: H };
}

// ---------------------------------------------------------------------------------------------------
// clean versus adversarial: two images, each explained for a chosen class

export interface ComparisonSide {
  /** e.g. "Clean" or "Adversarial" */
  heading: string;
  input: RgbImage;
  map: MapImage;
  /** the class explained */
  classId: number;
  label: string;
  /** the class the model predicts for the image, when known */
  predicted?: { classId: number; label: string; confidence: number | null } | null;
  background: BackgroundSaliency;
  sanity?: SanityNote | null | undefined;
}

export const COMPARISON_FIGURE_WIDTH = 2 * MARGIN + 4 * PANEL + 3 * GAP;
export const COMPARISON_FIGURE_HEIGHT = MARGIN + 24 + TITLE + PANEL + 2 * NOTE_LINE + MARGIN;

export async function comparisonFigure(
  sides: readonly [ComparisonSide, ComparisonSide],
  options: { method: string; colormap?: Colormap; opacity?: number },
): Promise<Figure> {
  const W = COMPARISON_FIGURE_WIDTH;
  const H = COMPARISON_FIGURE_HEIGHT;
  const top = MARGIN + 24 + TITLE;
  const body: string[] = [];
  const panels: Panel[] = [];
  const circles: string[] = [];
  const chars = fits(PANEL, 12);
  const halfChars = fits(2 * PANEL + GAP, 12);
  await Promise.all(
    sides.map(async (side, s) => {
      const left = MARGIN + s * 2 * (PANEL + GAP);
      const { image, overlay } = await saliencyPanels(
        side.input,
        side.map,
        options.colormap ?? 'JET',
        options.opacity ?? 0.5,
      );
      const predicted = side.predicted
        ? `: ${predictedTitle(side.predicted.classId, side.predicted.label, side.predicted.confidence)}`
        : '';
      body.push(
        text(left + PANEL + GAP / 2, MARGIN + 16, truncate(`${side.heading}${predicted}`, halfChars + 8), {
          size: 14,
          weight: 'bold',
        }),
        text(left + PANEL / 2, MARGIN + 24 + 24, 'Input', { size: 12 }),
        text(
          left + PANEL + GAP + PANEL / 2,
          MARGIN + 24 + 24,
          truncate(`Saliency for ${className(side.classId, side.label)}`, chars),
          { size: 12 },
        ),
        frame(left, top, PANEL, PANEL),
        frame(left + PANEL + GAP, top, PANEL, PANEL),
        text(left, top + PANEL + 16, truncate(backgroundLine(side.background, true), halfChars), {
          size: 11,
          anchor: 'start',
          fill: side.background.flagged ? '#c0392b' : '#555',
        }),
      );
      if (side.sanity)
        body.push(
          text(
            left,
            top + PANEL + 16 + NOTE_LINE,
            truncate(
              `Sanity: ρ blank ${side.sanity.blankRankCorrelation.toFixed(2)}, ρ noise ${side.sanity.noiseRankCorrelation.toFixed(2)}${side.sanity.dependsOnInput ? '' : ': depends little on the image'}`,
              halfChars,
            ),
            { size: 11, anchor: 'start', fill: '#555' },
          ),
        );
      panels.push(
        { rgb: image, width: PANEL, height: PANEL, left, top },
        { rgb: overlay, width: PANEL, height: PANEL, left: left + PANEL + GAP, top },
      );
      circles.push(circle(left + PANEL + GAP, top, PANEL, side.background.radius));
    }),
  );
  body.push(
    `<line x1="${MARGIN + 2 * PANEL + 1.5 * GAP}" x2="${MARGIN + 2 * PANEL + 1.5 * GAP}" y1="${MARGIN}" y2="${H - MARGIN}" stroke="#dddddd"/>`,
  );
  body.push(text(W - MARGIN, H - 6, options.method.toLowerCase(), { size: 10, anchor: 'end', fill: '#888' }));
  return { png: await compose(W, H, svg(W, H, body), panels, svg(W, H, circles, 'none')), width: W, height: H };
}
