/**
 * An execution's class counts as a bar chart: an SVG drawn here, rasterised to PNG by sharp (librsvg).
 * Text is kept to numbers and a title in a generic sans-serif, since servers may have few fonts.
 */
import sharp from 'sharp';

export interface ClassBar {
  classId: number;
  count: number;
}

const WIDTH = 960;
const HEIGHT = 420;
const MARGIN = { left: 64, right: 16, top: 44, bottom: 48 };

export async function renderClassChart(bars: readonly ClassBar[], title: string): Promise<Buffer> {
  return sharp(Buffer.from(classChartSvg(bars, title)))
    .png()
    .toBuffer();
}

export function classChartSvg(bars: readonly ClassBar[], title: string): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const max = Math.max(1, ...bars.map((b) => b.count));
  const top = niceCeiling(max);
  const slot = plotWidth / Math.max(1, bars.length);
  const barWidth = Math.max(1, slot * 0.75);
  const y = (count: number) => MARGIN.top + plotHeight - (count / top) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="26" font-size="16" text-anchor="middle" fill="#222">${escapeXml(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const value = (top * i) / 4;
    const gy = y(value).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${gy}" y2="${gy}" stroke="#e3e3e3"/>`,
      `<text x="${MARGIN.left - 6}" y="${gy}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="#555">${formatCount(value)}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const x = MARGIN.left + i * slot + (slot - barWidth) / 2;
    const by = y(bar.count);
    const fill = bar.count === max && max > 0 ? '#d9534f' : '#4878a8';
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${by.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(MARGIN.top + plotHeight - by).toFixed(1)}" fill="${fill}"/>`,
    );
    parts.push(
      `<text x="${(x + barWidth / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 14}" font-size="9" text-anchor="middle" fill="#555">${bar.classId}</text>`,
    );
  });
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" font-size="12" text-anchor="middle" fill="#333">predicted class</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** 1, 2 or 5 times a power of ten, at least `value` */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
