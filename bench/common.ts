/** Shared helpers for the benchmark scripts: machine facts, percentiles, tables, progress. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TadaDocumentNode } from 'gql.tada';
import { print } from 'graphql';
import ort from 'onnxruntime-node';
import type { LoadJob } from './load-generator.ts';

export function machineFacts(extra: Record<string, string> = {}): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const facts = {
    machine: `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    onnxruntime: ort.env.versions.node ?? 'unknown',
    ...extra,
  };
  return Object.entries(facts)
    .map(([k, v]) => `${k.padEnd(12)} ${v}`)
    .join('\n');
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

export interface LoadResult {
  throughput: number;
  p50: number;
  p99: number;
  /** the answers' `data.<field>` objects, in completion order */
  answers: Record<string, unknown>[];
  /** CPU time of the server process (all its threads) per request, ms */
  serverCpuPerRequest: number;
  /** CPU time of the load generator per request, ms: it shares the machine's cores with the server */
  clientCpuPerRequest: number;
}

/**
 * Sends `requests` POSTs cycling through `bodies` at `concurrency` from a separate load-generator
 * process (bench/load-generator.ts) and measures this process's CPU time meanwhile. The caller is
 * the server: its event loop stays free while the child runs.
 */
export async function httpLoad(job: LoadJob): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./load-generator.ts', import.meta.url));
  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(job));
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const cpu = process.cpuUsage(cpu0);
  const output = JSON.parse(Buffer.concat(chunks).toString()) as {
    seconds: number;
    latencies: number[];
    answers: Record<string, unknown>[];
    clientCpuMs: number;
  };
  return {
    throughput: job.requests / output.seconds,
    p50: median(output.latencies),
    p99: percentile(output.latencies, 99),
    answers: output.answers,
    serverCpuPerRequest: (cpu.user + cpu.system) / 1000 / job.requests,
    clientCpuPerRequest: output.clientCpuMs / job.requests,
  };
}

/** a typed GraphQL request function for a server: the data, or a thrown error listing the GraphQL errors */
export function graphqlClient(url: string, headers: Record<string, string> = {}) {
  return async <R, V>(document: TadaDocumentNode<R, V>, variables: V): Promise<R> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { data?: R; errors?: unknown };
    if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
}
