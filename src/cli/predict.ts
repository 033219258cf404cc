/**
 * `vigil predict <image files or directories…> [--files-from FILE|-] [--batch N] [--model NAME] [--top K]`
 *
 * Classifies images with a bundled model, locally: no server, no database. Directories are walked
 * recursively (files sorted; only .png .jpg .jpeg .webp .ppm .npy are taken, inference/classify-files.ts);
 * a file named on the command line is always tried. `--files-from` reads more paths, one a line, from
 * FILE or stdin (`-`). Prints one JSON object per image on stdout, in input order:
 *   {"path":…,"predictedClass":…,"label":…,"confidence":…[,"top":[{"classId","label","probability"}…]]}
 * or {"path":…,"error":"…"} for a file that cannot be read or decoded (the run goes on). Progress goes to
 * stderr for runs of more than 200 images. Decoding, preprocessing and batching are classifyFiles's (the
 * server's preprocessing; the serving graph runs one batch while the next is decoded).
 * Resolves to the exit code: 0 every image classified, 1 some image failed (or the model did not load),
 * 2 bad usage. MODEL_DIR, DEFAULT_MODEL, INFERENCE_DEVICE and MAX_IMAGE_PIXELS apply as for the server.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { messageOf } from '../errors.ts';
import { classifyFiles, collectImageFiles, fileErrorMessage, IMAGE_EXTENSIONS } from '../inference/classify-files.ts';
import type { DecodeLimits } from '../inference/preprocess.ts';
import { topK } from '../inference/scores.ts';
import { createLogger } from '../logger.ts';
import { ModelCatalog, type ModelEntry } from '../models/catalog.ts';
import { ModelRuntime } from '../models/runtime.ts';
import type { CliIo } from './capture-export.ts';

export const PREDICT_USAGE =
  'usage: vigil predict <image files or directories…> [--files-from FILE|-] [--batch N] [--model NAME] [--top K]';

/** runs with more images than this report progress on stderr */
const PROGRESS_ABOVE = 200;
const PROGRESS_EVERY_MS = 2000;
/**
 * onnxruntime-node 1.30 crashes (SIGSEGV, a stack overflow inside libonnxruntime while it creates a session;
 * it reads /proc/self/cmdline) when the process's command line is longer than about 28 KB — e.g.
 * `vigil predict dir/*.ppm` over a few hundred files. Above this many bytes of arguments the command runs
 * itself again in a child process with the paths on stdin (`--files-from -`).
 */
const MAX_COMMAND_LINE_BYTES = 8 * 1024;

export const PREDICT_HELP = `${PREDICT_USAGE}

Classifies images with a bundled model on this machine: no server, no database. A directory is walked
recursively for .png .jpg .jpeg .webp .ppm .npy files (sorted); a file named on the command line is always tried.

options:
  -f, --files-from FILE|-   more paths, one a line, from FILE or from stdin (-)
  -b, --batch N             images per model run (1 to 4096, default 32)
  -m, --model NAME          a model folder under MODEL_DIR (default: DEFAULT_MODEL, gtsrb-resnet18)
  -k, --top K               add the K most probable classes to each line (1 to 1000)
  -h, --help                this help

prints one JSON object a line on stdout, in input order:
  {"path":"a.png","predictedClass":14,"label":"Stop","confidence":0.998}
  {"path":"b.png","predictedClass":14,"label":"Stop","confidence":0.998,"top":[{"classId":14,"label":"Stop","probability":0.998},…]}
  {"path":"c.png","error":"no such file or directory"}    (a file that cannot be read or decoded; the run goes on)
Progress goes to stderr for runs of more than ${PROGRESS_ABOVE} images.

exit status: 0 every image classified, 1 some image failed or the model did not load, 2 bad usage.
environment: MODEL_DIR, DEFAULT_MODEL, INFERENCE_DEVICE, MAX_IMAGE_PIXELS and LOG_LEVEL, as for the server.

examples:
  vigil predict models/gtsrb-resnet18/fixtures --top 3
  find photos -name '*.jpg' | vigil predict --files-from - --batch 64 > predictions.jsonl`;

export interface PredictLine {
  path: string;
  predictedClass: number;
  label: string;
  confidence: number;
  top?: { classId: number; label: string; probability: number }[];
}

export interface PredictErrorLine {
  path: string;
  error: string;
}

export interface PredictOptions {
  batch: number;
  /** include the top K classes; undefined: no `top` field */
  top?: number | undefined;
  limits: DecodeLimits;
  /** called with each line, in input order */
  onLine: (line: PredictLine | PredictErrorLine) => void;
  /** called after every batch */
  onProgress?: (done: number, total: number) => void;
}

/** Classifies `files` (classifyFiles) and turns each result into its output line. Returns how many failed. */
export async function predictFiles(
  runtime: ModelRuntime,
  catalog: ModelCatalog,
  files: readonly string[],
  options: PredictOptions,
): Promise<number> {
  const model = runtime.entry.name;
  const scores = (probabilities: Float64Array, k: number) =>
    topK(probabilities, k).map((s) => ({
      classId: s.classId,
      label: catalog.label(model, s.classId),
      probability: s.probability,
    }));
  let failed = 0;
  for await (const result of classifyFiles(runtime, files, {
    batch: options.batch,
    limits: options.limits,
    onProgress: options.onProgress,
  })) {
    if ('error' in result) {
      failed++;
      options.onLine(result);
      continue;
    }
    const best = scores(result.probabilities, 1)[0]!;
    const line: PredictLine = {
      path: result.path,
      predictedClass: best.classId,
      label: best.label,
      confidence: best.probability,
    };
    if (options.top !== undefined) line.top = scores(result.probabilities, options.top);
    options.onLine(line);
  }
  return failed;
}

function positiveInteger(raw: string | undefined, flag: string, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new Error(`${flag}=${raw}: expected an integer from 1 to ${max}`);
  return value;
}

/** `argv`: the arguments after `predict` (a leading `predict` is skipped too). */
export async function predictCommand(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const say = (line: string) => void io.stderr.write(`${line}\n`);
  const args = argv[0] === 'predict' ? argv.slice(1) : argv;

  let values: { batch?: string; model?: string; top?: string; 'files-from'?: string; help?: boolean };
  let inputs: string[];
  let batch: number;
  let top: number | undefined;
  try {
    const parsed = parseArgs({
      args,
      options: {
        batch: { type: 'string', short: 'b' },
        model: { type: 'string', short: 'm' },
        top: { type: 'string', short: 'k' },
        'files-from': { type: 'string', short: 'f' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
    values = parsed.values;
    inputs = parsed.positionals;
    if (values.help) {
      io.stdout.write(`${PREDICT_HELP}\n`);
      return 0;
    }
    batch = positiveInteger(values.batch, '--batch', 32, 4096);
    top = values.top === undefined ? undefined : positiveInteger(values.top, '--top', 1, 1000);
  } catch (error) {
    say(`${messageOf(error)}\n${PREDICT_USAGE}\n(vigil predict --help for more)`);
    return 2;
  }
  if (values['files-from'] !== undefined) {
    const from = values['files-from'];
    try {
      const text = from === '-' ? await readStream(process.stdin) : await fs.readFile(from, 'utf8');
      inputs.push(...text.split(/\r?\n/).filter((line) => line.trim() !== ''));
    } catch (error) {
      say(`--files-from ${from}: ${fileErrorMessage(error)}`);
      return 2;
    }
  }
  if (!inputs.length) {
    say(`no image files or directories given\n${PREDICT_USAGE}\n(vigil predict --help for more)`);
    return 2;
  }
  const underMain = /cli[\\/]main\.ts$/.test(process.argv[1] ?? '');
  if (underMain && io.stdout === process.stdout && commandLineBytes() > MAX_COMMAND_LINE_BYTES) {
    const forwarded = [
      ...(values.batch ? ['--batch', values.batch] : []),
      ...(values.model ? ['--model', values.model] : []),
      ...(values.top ? ['--top', values.top] : []),
    ];
    return runInChild(forwarded, inputs, io);
  }

  const config = commandConfig(io);
  if (typeof config === 'number') return config;
  const modelName = values.model ?? config.defaultModel;
  const catalog = new ModelCatalog(config.modelDir);
  const entry: ModelEntry | undefined = catalog.get(modelName);
  if (!entry) {
    const known = catalog.list().map((e) => e.name);
    say(`no model '${modelName}' in ${config.modelDir}${known.length ? ` (models: ${known.join(', ')})` : ''}`);
    return 1;
  }

  const files = await collectImageFiles(inputs, { symlinkedFiles: true });
  if (!files.length) {
    say(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) under ${inputs.join(', ')}`);
    return 0;
  }

  const runtime = await commandRuntime(io, config, entry, 'predict');
  if (typeof runtime === 'number') return runtime;

  const started = performance.now();
  let lastReport = started;
  const report = (done: number, total: number) => {
    const now = performance.now();
    if (total <= PROGRESS_ABOVE || (done < total && now - lastReport < PROGRESS_EVERY_MS)) return;
    lastReport = now;
    const rate = done / ((now - started) / 1000);
    say(`${done}/${total} images, ${rate.toFixed(1)} img/s`);
  };
  try {
    const failed = await predictFiles(runtime, catalog, files, {
      batch,
      top,
      limits: { maxPixels: config.maxImagePixels },
      onLine: (line) => void io.stdout.write(`${JSON.stringify(line)}\n`),
      onProgress: report,
    });
    return failed ? 1 : 0;
  } catch (error) {
    say(`prediction failed: ${messageOf(error)}`);
    return 1;
  } finally {
    await runtime.release();
  }
}

/** the configuration from the command's environment; 2 (bad usage) after saying what is wrong with it */
export function commandConfig(io: CliIo): Config | number {
  try {
    return loadConfig(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** a command's model, loaded; 1 (failed) after saying why it could not be */
export async function commandRuntime(
  io: CliIo,
  config: Config,
  entry: ModelEntry,
  command: string,
): Promise<ModelRuntime | number> {
  // the runtime's own log lines (provider choice) only when LOG_LEVEL asks for them
  const logger = createLogger(io.env.LOG_LEVEL ? config.logLevel : 'warn', command);
  try {
    return await ModelRuntime.load(entry, config.inferenceDevice, logger, config.inferenceTuning);
  } catch (error) {
    io.stderr.write(`cannot load model '${entry.name}': ${messageOf(error)}\n`);
    return 1;
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += chunk as string;
  return text;
}

function commandLineBytes(): number {
  return [process.execPath, ...process.execArgv, ...process.argv.slice(1)].reduce(
    (n, a) => n + Buffer.byteLength(a) + 1,
    0,
  );
}

/** This command again, in a child process with a short command line: the paths go through its stdin. */
async function runInChild(flags: string[], inputs: string[], io: CliIo): Promise<number> {
  const script = process.argv[1]!;
  const child = spawn(process.execPath, [...process.execArgv, script, 'predict', ...flags, '--files-from', '-'], {
    env: io.env as NodeJS.ProcessEnv,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  child.stdin.end(inputs.map((p) => `${p}\n`).join(''));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (signal) io.stderr.write(`vigil predict: the child process ended with ${signal}\n`);
  return code ?? 1;
}
