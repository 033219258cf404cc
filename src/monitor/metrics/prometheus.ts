/** The Prometheus text exposition format (version 0.0.4): samples collected by family, then printed. */
import type { HistogramSnapshot } from '../../db/histogram.ts';
import type { Histogram } from '../../histogram.ts';

/** something that adds its families to a scrape of /metrics */
export interface MetricSource {
  collect(out: Exposition): void | Promise<void>;
}

/** Collects samples by family (a family's samples must be contiguous) and prints them. */
export class Exposition {
  readonly #families = new Map<string, { help: string; type: string; samples: string[] }>();

  add(
    name: string,
    help: string,
    labels: Record<string, string>,
    value: number,
    type: 'gauge' | 'counter' = 'gauge',
  ): void {
    this.#family(name, help, type).push(sample(name, labels, value));
  }

  /** a histogram's `_bucket` (cumulative, `le`), `_sum` and `_count` samples */
  histogram(name: string, help: string, labels: Record<string, string>, histogram: Histogram): void {
    const samples = this.#family(name, help, 'histogram');
    let cumulative = 0;
    histogram.bounds.forEach((bound, i) => {
      cumulative += histogram.counts[i]!;
      samples.push(sample(`${name}_bucket`, { ...labels, le: String(bound) }, cumulative));
    });
    samples.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, histogram.count));
    samples.push(sample(`${name}_sum`, labels, histogram.sum));
    samples.push(sample(`${name}_count`, labels, histogram.count));
  }

  /** a histogram already cumulative (db/histogram.ts's snapshot) */
  histogramSnapshot(name: string, help: string, labels: Record<string, string>, histogram: HistogramSnapshot): void {
    const samples = this.#family(name, help, 'histogram');
    histogram.upperBounds.forEach((bound, i) => {
      samples.push(sample(`${name}_bucket`, { ...labels, le: String(bound) }, histogram.cumulativeCounts[i]!));
    });
    samples.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, histogram.count));
    samples.push(sample(`${name}_sum`, labels, histogram.sum));
    samples.push(sample(`${name}_count`, labels, histogram.count));
  }

  #family(name: string, help: string, type: string): string[] {
    let family = this.#families.get(name);
    if (!family) this.#families.set(name, (family = { help, type, samples: [] }));
    return family.samples;
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.#families) {
      lines.push(
        `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
        `# TYPE ${name} ${f.type}`,
        ...f.samples,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`;
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
