/**
 * The confusion matrix as a picture: an SVG drawn here (true class down, predicted class across, each
 * cell shaded by its count on a white-to-blue scale with its count written in it, and the scale beside),
 * rasterised to a CONFUSION_CHART_WIDTH × CONFUSION_CHART_HEIGHT PNG by sharp. Only the classes
 * predicted or labelled in the window are drawn, so cells stay readable.
 */
import sharp from 'sharp';
import { escapeXml } from '../executions/class-chart.ts';
import type { ModelQualityReport } from './report.ts';

export const CONFUSION_CHART_WIDTH = 900;
export const CONFUSION_CHART_HEIGHT = 820;
const MARGIN = { left: 96, right: 120, top: 64, bottom: 72 };
const LOW = [255, 255, 255] as const;
const HIGH = [8, 48, 107] as const;

export async function renderConfusionChart(report: ModelQualityReport, title: string): Promise<Buffer> {
  return sharp(Buffer.from(confusionChartSvg(report, title)))
    .png()
    .toBuffer();
}

export function confusionChartSvg(report: ModelQualityReport, title: string): string {
  const W = CONFUSION_CHART_WIDTH;
  const H = CONFUSION_CHART_HEIGHT;
  const classes = report.classes.map((c) => c.classId);
  const n = classes.length;
  const size = Math.min(W - MARGIN.left - MARGIN.right, H - MARGIN.top - MARGIN.bottom);
  const cell = size / Math.max(1, n);
  const counts = classes.map((actual) => classes.map((p) => report.confusionMatrix[String(actual)]?.[String(p)] ?? 0));
  const max = Math.max(1, ...counts.flat());
  const subtitle =
    report.accuracy === null
      ? 'no labelled captures in the window'
      : `${report.labelledCount} labelled captures · accuracy ${report.accuracy.toFixed(3)} · macro F1 ${(report.macroF1 ?? 0).toFixed(3)}`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="24" font-size="15" text-anchor="middle" fill="#222">${escapeXml(title)}</text>`,
    `<text x="${W / 2}" y="44" font-size="12" text-anchor="middle" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  const tickFont = Math.max(6, Math.min(12, cell * 0.5));
  const countFont = Math.min(13, cell * 0.38);
  counts.forEach((row, i) => {
    const y = MARGIN.top + i * cell;
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${(y + cell / 2).toFixed(1)}" font-size="${tickFont.toFixed(1)}" text-anchor="end" dominant-baseline="middle" fill="#333">${classes[i]}</text>`,
    );
    row.forEach((count, j) => {
      const x = MARGIN.left + j * cell;
      const t = count / max;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${cell.toFixed(1)}" height="${cell.toFixed(1)}" fill="${shade(t)}" stroke="${i === j ? '#d9534f' : '#e6e6e6'}" stroke-width="${i === j ? 1.5 : 0.5}"/>`,
      );
      if (count > 0 && countFont >= 5)
        parts.push(
          `<text x="${(x + cell / 2).toFixed(1)}" y="${(y + cell / 2).toFixed(1)}" font-size="${countFont.toFixed(1)}" text-anchor="middle" dominant-baseline="middle" fill="${t > 0.55 ? '#ffffff' : '#222'}">${count}</text>`,
        );
    });
  });
  classes.forEach((classId, j) => {
    const x = MARGIN.left + j * cell + cell / 2;
    parts.push(
      `<text x="${x.toFixed(1)}" y="${MARGIN.top + size + 14}" font-size="${tickFont.toFixed(1)}" text-anchor="middle" fill="#333">${classId}</text>`,
    );
  });
  // axis titles
  parts.push(
    `<text x="${MARGIN.left + size / 2}" y="${MARGIN.top + size + 44}" font-size="13" text-anchor="middle" fill="#222">predicted class</text>`,
    `<text x="28" y="${MARGIN.top + size / 2}" font-size="13" text-anchor="middle" fill="#222" transform="rotate(-90 28 ${MARGIN.top + size / 2})">true class</text>`,
  );
  // colour scale: max at the top, 0 at the bottom
  const barX = MARGIN.left + size + 28;
  parts.push(
    `<defs><linearGradient id="scale" x1="0" y1="1" x2="0" y2="0"><stop offset="0" stop-color="${shade(0)}"/><stop offset="1" stop-color="${shade(1)}"/></linearGradient></defs>`,
    `<rect x="${barX}" y="${MARGIN.top}" width="18" height="${size}" fill="url(#scale)" stroke="#888" stroke-width="0.5"/>`,
    `<text x="${barX + 9}" y="${MARGIN.top - 10}" font-size="11" text-anchor="middle" fill="#333">count</text>`,
  );
  for (const f of [0, 0.5, 1]) {
    const y = MARGIN.top + size - f * size;
    parts.push(
      `<line x1="${barX + 18}" x2="${barX + 23}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#888"/>`,
      `<text x="${barX + 26}" y="${y.toFixed(1)}" font-size="11" dominant-baseline="middle" fill="#333">${formatTick(f * max)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** white (0) to dark blue (1) */
function shade(t: number): string {
  const c = LOW.map((low, k) => Math.round(low + (HIGH[k]! - low) * Math.min(1, Math.max(0, t))));
  return `rgb(${c.join(',')})`;
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
