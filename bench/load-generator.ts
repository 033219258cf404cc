/**
 * The benchmarks' HTTP client, run as its own process (bench/common.ts httpLoad) so that its work is
 * not done on the server's event loop, as with any real client. It reads a job from stdin — the URL,
 * the request bodies to cycle through, concurrency and count — sends them over keep-alive connections
 * with node:http (lighter than fetch), and prints one JSON line: per-request latency and the field
 * `data.<field>` of each answer, plus its own CPU time.
 */
import http from 'node:http';

export interface LoadJob {
  url: string;
  bodies: string[];
  concurrency: number;
  requests: number;
  /** the top-level field of `data` to return for each answer */
  field: string;
  /** sent with every request (an Authorization header) */
  headers?: Record<string, string>;
}

export interface LoadOutput {
  seconds: number;
  latencies: number[];
  answers: Record<string, unknown>[];
  clientCpuMs: number;
}

function post(agent: http.Agent, url: URL, body: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks).toString()));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function run(job: LoadJob): Promise<LoadOutput> {
  const url = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  const answers: Record<string, unknown>[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= job.requests) return;
      const t0 = performance.now();
      const text = await post(agent, url, job.bodies[i % job.bodies.length]!, job.headers ?? {});
      latencies.push(performance.now() - t0);
      const parsed = JSON.parse(text) as { data?: Record<string, Record<string, unknown>>; errors?: unknown };
      const answer = parsed.data?.[job.field];
      if (!answer) throw new Error(`request ${i} failed: ${text.slice(0, 500)}`);
      answers.push(answer);
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { seconds, latencies, answers, clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const output = await run(JSON.parse(Buffer.concat(chunks).toString()) as LoadJob);
process.stdout.write(`${JSON.stringify(output)}\n`);
