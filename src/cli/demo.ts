/**
 * `vigil demo [--images DIR] [--count N] [--out DIR] [--url URL] [--key KEY] …`
 *
 * The write-up as one command (see DEMO_HELP): against an in-process server on a temporary SQLite
 * database, or a running server with --url. The steps are in demo/story.ts, the report in
 * demo/report.ts. Progress on stderr; on stdout, one JSON line: where the report is and what it found.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ATTACK_METHODS } from '../attack/methods.ts';
import { messageOf } from '../errors.ts';
import { isOneOf } from '../guards.ts';
import { collectImageFiles } from '../inference/classify-files.ts';
import type { CliIo } from './capture-export.ts';
import { DemoClient } from './demo/client.ts';
import { reportHtml, summarise } from './demo/report.ts';
import { startLocalServer } from './demo/server.ts';
import { runStory, type SourceImage } from './demo/story.ts';

export const DEFAULT_DEMO_COUNT = 100;
/** an attack is up to 100 debug-graph runs: 24 keep the default run under 10 minutes on two shared cores */
export const DEFAULT_DEMO_ATTACKS = 24;
const MAX_DEMO_COUNT = 10_000;
export const FIXTURE_DIR = fileURLToPath(new URL('../../models/gtsrb-resnet18/fixtures/', import.meta.url));

export const DEMO_USAGE =
  'usage: vigil demo [--images DIR] [--count N] [--attacks M] [--out DIR] [--url URL] [--key KEY] [--sampling P] [--method deepfool|pgd|bim|fgsm] [--model NAME]';

export const DEMO_HELP = `${DEMO_USAGE}

The write-up end to end, with progress bars on stderr:
  1. an endpoint capturing P% of its requests; N clean images sent; a baseline of them; a schedule with the
     class-share check; run → Completed;
  2. adversarial images toward Stop (class 14) made from the clean ones (createAdversarial), sent; run again →
     CompletedWithViolations "Class 14 (Stop) predicted …% of the time", while a graphql-ws subscription
     prints the alert as it arrives;
  3. the debugger hook turned on (updateEndpoint); a clean and an adversarial image sent and explained.
It writes DIR/index.html (the story with its figures), the figure PNGs, constraint_violations.json and
summary.json (counts, statuses, attack success, timings, the alert).

options:
  -i, --images DIR      images to send (a directory, searched recursively); default $GTSRB_DIR, else the
                        model's bundled synthetic fixtures (${path.relative(process.cwd(), FIXTURE_DIR) || FIXTURE_DIR})
  -n, --count N         images sent per phase, 1–${MAX_DEMO_COUNT}; default ${DEFAULT_DEMO_COUNT} (spread over the directory; repeated
                        when it holds fewer)
  -a, --attacks M       distinct images attacked, at most M of them (spread over them), 1–${MAX_DEMO_COUNT}; default
                        ${DEFAULT_DEMO_ATTACKS}; the adversarial traffic sends the successful ones in turn, N requests
  -o, --out DIR         where the report goes (created); default ./vigil-demo
      --url URL         a running vigil server (default: one started in this process on a temporary database)
      --key KEY         its API key (role admin; default $VIGIL_API_KEY)
      --sampling P      share of requests captured, 1–100; default 50
  -m, --method M        deepfool (default: AdvBox's targeted DeepFool), pgd, bim or fgsm
      --model NAME      the endpoint's model (default: the server's DEFAULT_MODEL)
  -h, --help            this help

prints one JSON line on stdout: {"report","status","alert","attackSuccessRate","seconds"}.
exit status: 0 the story ran (whatever the monitor found), 1 a step failed, 2 bad usage.

example:
  npm run -s vigil -- demo --count 100 --out /tmp/vigil-demo && xdg-open /tmp/vigil-demo/index.html`;

interface DemoOptions {
  images: string | undefined;
  count: number;
  attacks: number;
  out: string;
  url: string | undefined;
  key: string | undefined;
  sampling: number;
  method: (typeof ATTACK_METHODS)[number];
  model: string | undefined;
}

function parse(args: string[], env: CliIo['env']): DemoOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    options: {
      images: { type: 'string', short: 'i' },
      count: { type: 'string', short: 'n' },
      attacks: { type: 'string', short: 'a' },
      out: { type: 'string', short: 'o' },
      url: { type: 'string' },
      key: { type: 'string' },
      sampling: { type: 'string' },
      method: { type: 'string', short: 'm' },
      model: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length) throw new Error(`unexpected argument '${positionals[0]}'`);
  const count = values.count === undefined ? DEFAULT_DEMO_COUNT : Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_DEMO_COUNT)
    throw new Error(`--count=${values.count}: expected an integer from 1 to ${MAX_DEMO_COUNT}`);
  const attacks = values.attacks === undefined ? DEFAULT_DEMO_ATTACKS : Number(values.attacks);
  if (!Number.isInteger(attacks) || attacks < 1 || attacks > MAX_DEMO_COUNT)
    throw new Error(`--attacks=${values.attacks}: expected an integer from 1 to ${MAX_DEMO_COUNT}`);
  const sampling = values.sampling === undefined ? 50 : Number(values.sampling);
  if (!Number.isFinite(sampling) || sampling < 1 || sampling > 100)
    throw new Error(`--sampling=${values.sampling}: expected a percentage from 1 to 100`);
  const method = (values.method ?? 'deepfool').toUpperCase();
  if (!isOneOf(ATTACK_METHODS, method))
    throw new Error(`--method=${values.method}: expected one of ${ATTACK_METHODS.join(', ').toLowerCase()}`);
  if (values.url !== undefined && !/^https?:\/\/[^/]+/.test(values.url))
    throw new Error(`--url=${values.url}: expected http(s)://host[:port]`);
  return {
    images: values.images ?? (env.GTSRB_DIR || undefined),
    count,
    attacks,
    out: values.out ?? 'vigil-demo',
    url: values.url?.replace(/\/+$/, ''),
    key: values.key ?? (env.VIGIL_API_KEY || undefined),
    sampling,
    method,
    model: values.model,
  };
}

/** `count` images of the directory: spread evenly over its sorted files, or each repeated in turn when it holds fewer */
export async function chooseImages(dir: string, count: number): Promise<SourceImage[]> {
  const files = await collectImageFiles([dir]);
  if (!files.length) throw new Error(`no image files in ${dir}`);
  const chosen = Array.from({ length: count }, (_, i) =>
    files.length >= count ? files[Math.floor((i * files.length) / count)]! : files[i % files.length]!,
  );
  const bytes = new Map<string, Buffer>();
  for (const file of new Set(chosen)) bytes.set(file, await fs.readFile(file));
  return chosen.map((file) => ({ path: file, bytes: bytes.get(file)! }));
}

export async function demoCommand(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parse(argv[0] === 'demo' ? argv.slice(1) : argv, io.env);
  } catch (error) {
    io.stderr.write(`${messageOf(error)}\n${DEMO_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    io.stdout.write(`${DEMO_HELP}\n`);
    return 0;
  }
  const started = performance.now();
  const stderr = { write: (text: string) => io.stderr.write(text), isTTY: (io.stderr as { isTTY?: boolean }).isTTY };
  const source = options.images ?? FIXTURE_DIR;
  let server: Awaited<ReturnType<typeof startLocalServer>> | undefined;
  let client: DemoClient | undefined;
  try {
    const images = await chooseImages(source, options.count);
    if (!options.url) {
      io.stderr.write('starting an in-process server on a temporary SQLite database…\n');
      server = await startLocalServer(io.env);
    }
    const url = options.url ?? server!.url;
    client = new DemoClient(url, options.key);
    const endpoint = `demo-${Date.now().toString(36)}`;
    const story = await runStory(
      client,
      {
        endpoint,
        model: options.model,
        sampling: options.sampling,
        method: options.method,
        images,
        attacks: options.attacks,
        concurrency: 4,
      },
      stderr,
    );

    await fs.mkdir(options.out, { recursive: true });
    for (const figure of story.figures)
      await fs.writeFile(path.join(options.out, figure.name), await client.get(figure.url));
    const summary = summarise(story, {
      server: options.url ?? 'an in-process server (temporary SQLite database)',
      source: options.images ? source : 'the bundled synthetic fixtures',
      sampling: options.sampling,
      method: options.method,
      totalSeconds: Math.round(performance.now() - started) / 1000,
    });
    await fs.writeFile(
      path.join(options.out, 'constraint_violations.json'),
      `${JSON.stringify(story.executions.adversarial.constraintViolations, null, 2)}\n`,
    );
    await fs.writeFile(path.join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await fs.writeFile(path.join(options.out, 'index.html'), reportHtml(summary));
    io.stderr.write(`report: ${path.join(options.out, 'index.html')} (${summary.totalSeconds.toFixed(0)} s)\n`);
    io.stdout.write(
      `${JSON.stringify({
        report: path.join(options.out, 'index.html'),
        status: summary.executions.adversarial.status,
        alert: summary.alert.message,
        attackSuccessRate: summary.attack.successRate,
        seconds: summary.totalSeconds,
      })}\n`,
    );
    return 0;
  } catch (error) {
    io.stderr.write(`demo failed: ${messageOf(error)}\n`);
    return 1;
  } finally {
    await client?.close();
    await server?.close();
  }
}
