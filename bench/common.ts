/** Shared helpers for the benchmark scripts: machine facts, percentiles, tables, progress. */
import os from 'node:os';
import ort from 'onnxruntime-node';

export function machineFacts(extra: Record<string, string> = {}): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const facts = {
    machine: `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    onnxruntime: ort.env.versions.node ?? 'unknown',
    ...extra,
  };
  return Object.entries(facts).map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n');
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** a plain-text table: the first row is the header */
export function table(rows: (string | number)[][]): string {
  const text = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = text[0]!.map((_, i) => Math.max(...text.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(text[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...text.slice(1).map(line)].join('\n');
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
