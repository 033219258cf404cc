/**
 * Charts: uPlot for time series (fast on thousands of points), plain SVG bars for class shares (43 bars
 * beside their baseline need no library). Both carry a text alternative for screen readers.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  /** seconds since the epoch */
  times: number[];
  values: number[];
}

export function TimeChart(props: { title: string; series: Series; height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const [first] = props.series.times;
    const only = props.series.times.every((t) => t === first) ? first : undefined;
    const chart = new uPlot(
      {
        width: Math.max(320, element.clientWidth || 640),
        height: props.height ?? 180,
        series: [{}, { label: props.series.label, stroke: '#1f5fbf', width: 2, points: { show: true } }],
        // one instant alone: uPlot widens it by 86,400 of its time units (years, with seconds), so an hour
        // either side instead
        scales: {
          x: {
            time: true,
            range: (_chart, min, max) => (only === undefined ? [min, max] : [only - 3600, only + 3600]),
          },
        },
        axes: [{}, { size: 60 }],
        legend: { show: true },
      },
      [props.series.times, props.series.values],
      element,
    );
    return () => chart.destroy();
  }, [props.series, props.height]);
  const last = props.series.values.at(-1);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div
        ref={container}
        role="img"
        aria-label={`${props.title}: ${props.series.values.length} points, latest ${last ?? 'none'}`}
      />
    </figure>
  );
}

export interface ClassShare {
  classId: number;
  label: string;
  share: number;
}

/** the classes present now (bars) and in the baseline (outlined marks), largest first */
export function ClassBars(props: { title: string; now: ClassShare[]; baseline?: ClassShare[]; limit?: number }) {
  const baseline = new Map((props.baseline ?? []).map((c) => [c.classId, c.share]));
  const rows = [...props.now].sort((a, b) => b.share - a.share).slice(0, props.limit ?? 8);
  const width = 320;
  const rowHeight = 22;
  const barX = 150;
  const scale = (share: number) => Math.round(share * (width - barX - 50));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg width={width} height={rows.length * rowHeight + 4} role="img" aria-label={describe(rows, baseline)}>
        {rows.map((row, i) => {
          const y = i * rowHeight + 2;
          const base = baseline.get(row.classId);
          return (
            <g key={row.classId}>
              <text x={0} y={y + 15} class="bar-label">
                {truncate(`${row.classId} ${row.label}`, 22)}
              </text>
              <rect x={barX} y={y + 3} width={scale(row.share)} height={14} class="bar-now" />
              {base === undefined ? null : (
                <rect x={barX + scale(base) - 1} y={y} width={3} height={20} class="bar-baseline" />
              )}
              <text x={barX + scale(row.share) + 4} y={y + 15} class="bar-value">
                {Math.round(row.share * 100)}%
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

function describe(rows: ClassShare[], baseline: Map<number, number>): string {
  return rows
    .map((r) => {
      const base = baseline.get(r.classId);
      return `${r.label} ${Math.round(r.share * 100)}%${base === undefined ? '' : ` (baseline ${Math.round(base * 100)}%)`}`;
    })
    .join(', ');
}

const truncate = (text: string, length: number) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/** counts of values in [0, 1] in `bins` equal bins, as small SVG columns */
export function Histogram(props: { title: string; values: number[]; bins?: number }) {
  const bins = props.bins ?? 10;
  const counts = new Array<number>(bins).fill(0);
  for (const v of props.values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]! += 1;
  const max = Math.max(1, ...counts);
  const width = 200;
  const height = 60;
  const column = width / bins;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg width={width} height={height + 14} role="img" aria-label={`${props.title}: ${counts.join(', ')} per tenth`}>
        {counts.map((count, i) => (
          <rect
            key={i}
            x={i * column + 1}
            y={height - (count / max) * height}
            width={column - 2}
            height={(count / max) * height}
            class="bar-now"
          />
        ))}
        <text x={0} y={height + 12} class="bar-value">
          0
        </text>
        <text x={width - 8} y={height + 12} class="bar-value">
          1
        </text>
      </svg>
    </figure>
  );
}
