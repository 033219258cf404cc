/**
 * `vigil attack <image files or directories…> --target K [--method deepfool|pgd|bim|fgsm] --out DIR
 *  [--epsilon E] [--step-size S] [--iterations N] [--model NAME]`
 *
 * Makes adversarial images locally with a bundled model's debug graph (no server, no database): one
 * 128×128 PNG per input in DIR (the input's name, `.png`), one JSON line per image on stdout,
 *   {"path","out","originalClass","adversarialClass","success","linf","l2"}
 * (success: the written PNG, decoded again through the predict path, is the target), or
 * {"path","error"} for a file that cannot be read. Progress on stderr. Exit status: 0 every image
 * attacked (whether or not it succeeded), 1 some file failed or the model did not load, 2 bad usage.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attackImage } from '../attack/attack-image.ts';
import { ATTACK_METHODS, type AttackMethod } from '../attack/methods.ts';
import { DEFAULT_ITERATIONS, MAX_ATTACK_ITERATIONS, MAX_EPSILON } from '../attack/service.ts';
import { messageOf } from '../errors.ts';
import { isOneOf } from '../guards.ts';
import { collectImageFiles, fileErrorMessage, IMAGE_EXTENSIONS } from '../inference/classify-files.ts';
import { ModelCatalog } from '../models/catalog.ts';
import type { CliIo } from './capture-export.ts';
import { commandConfig, commandRuntime } from './predict.ts';

export const ATTACK_USAGE =
  'usage: vigil attack <image files or directories…> --target K --out DIR [--method deepfool|pgd|bim|fgsm] [--epsilon E] [--step-size S] [--iterations N] [--model NAME]';

export const ATTACK_HELP = `${ATTACK_USAGE}

Makes adversarial images toward class K with a bundled model's debug graph, on this machine: no server,
no database. A directory is walked recursively for ${[...IMAGE_EXTENSIONS].join(' ')} files.

options:
  -t, --target K        the class to reach (14: Stop for gtsrb-resnet18)
  -o, --out DIR         where the 128×128 PNGs go (created; <input name>.png, numbered when names repeat)
  -m, --method M        deepfool (default: AdvBox's targeted DeepFool, overshoot 0.02), pgd, bim or fgsm
  -e, --epsilon E       pgd, bim, fgsm: L∞ radius in pixel levels (0–255 scale), up to ${MAX_EPSILON}; default 8
  -s, --step-size S     pgd, bim: pixel levels per step; default max(E/4, 0.5)
  -n, --iterations N    1–${MAX_ATTACK_ITERATIONS}; default 100 for deepfool, 20 for pgd and bim, 1 for fgsm
      --model NAME      a model folder under MODEL_DIR (default: DEFAULT_MODEL)
  -h, --help            this help

prints one JSON object a line on stdout, in input order:
  {"path":"a.png","out":"adv/a.png","originalClass":35,"adversarialClass":14,"success":true,"linf":41,"l2":1788.9}
  {"path":"c.png","error":"no such file or directory"}
success: the written PNG, decoded again as predict decodes it, is classified as the target. linf and l2
are the perturbation of the 128×128 image in pixel levels. Progress goes to stderr.

exit status: 0 every image attacked (successful or not), 1 some file failed or the model did not load, 2 bad usage.

example:
  vigil attack models/gtsrb-resnet18/fixtures --target 14 --method pgd --out /tmp/adversarial > attack.jsonl`;

export interface AttackLine {
  path: string;
  out: string;
  originalClass: number;
  adversarialClass: number;
  success: boolean;
  linf: number;
  l2: number;
}

interface Options {
  target: number;
  method: AttackMethod;
  out: string;
  epsilon?: number | undefined;
  stepSize?: number | undefined;
  maxIterations: number;
  model?: string | undefined;
}

function parse(args: string[]): { options: Options; inputs: string[] } | 'help' {
  const { values, positionals } = parseArgs({
    args,
    options: {
      target: { type: 'string', short: 't' },
      out: { type: 'string', short: 'o' },
      method: { type: 'string', short: 'm' },
      epsilon: { type: 'string', short: 'e' },
      'step-size': { type: 'string', short: 's' },
      iterations: { type: 'string', short: 'n' },
      model: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (values.target === undefined) throw new Error('--target is required');
  if (values.out === undefined) throw new Error('--out is required');
  if (!positionals.length) throw new Error('no image files or directories given');
  const target = Number(values.target);
  if (!Number.isInteger(target) || target < 0) throw new Error(`--target=${values.target}: expected a class number`);
  const method = (values.method ?? 'deepfool').toUpperCase();
  if (!isOneOf(ATTACK_METHODS, method))
    throw new Error(`--method=${values.method}: expected one of ${ATTACK_METHODS.join(', ').toLowerCase()}`);
  const levels = (raw: string | undefined, flag: string) => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || value > MAX_EPSILON)
      throw new Error(`${flag}=${raw}: expected pixel levels above 0, at most ${MAX_EPSILON}`);
    return value;
  };
  const iterations = values.iterations === undefined ? DEFAULT_ITERATIONS[method] : Number(values.iterations);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ATTACK_ITERATIONS)
    throw new Error(`--iterations=${values.iterations}: expected an integer from 1 to ${MAX_ATTACK_ITERATIONS}`);
  return {
    options: {
      target,
      method,
      out: values.out,
      epsilon: levels(values.epsilon, '--epsilon'),
      stepSize: levels(values['step-size'], '--step-size'),
      maxIterations: iterations,
      model: values.model,
    },
    inputs: positionals,
  };
}

/** `argv`: the arguments after `attack`. */
export async function attackCommand(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const say = (line: string) => void io.stderr.write(`${line}\n`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    say(`${messageOf(error)}\n${ATTACK_USAGE}\n(vigil attack --help for more)`);
    return 2;
  }
  if (parsed === 'help') {
    io.stdout.write(`${ATTACK_HELP}\n`);
    return 0;
  }
  const { options, inputs } = parsed;
  const config = commandConfig(io);
  if (typeof config === 'number') return config;
  const modelName = options.model ?? config.defaultModel;
  const entry = new ModelCatalog(config.modelDir).get(modelName);
  if (!entry?.manifest.debug) {
    say(`no model '${modelName}' with a debug graph in ${config.modelDir}`);
    return 1;
  }
  if (options.target >= entry.manifest.classCount) {
    say(`--target=${options.target}: model ${modelName} has classes 0 to ${entry.manifest.classCount - 1}`);
    return 2;
  }
  const files = await collectImageFiles(inputs, { symlinkedFiles: true });
  if (!files.length) {
    say(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) under ${inputs.join(', ')}`);
    return 0;
  }
  await fs.mkdir(options.out, { recursive: true });
  const runtime = await commandRuntime(io, config, entry, 'attack');
  if (typeof runtime === 'number') return runtime;
  const names = new OutputNames(options.out);
  const started = performance.now();
  let failed = 0;
  let succeeded = 0;
  try {
    for (const [i, file] of files.entries()) {
      try {
        const bytes = await fs.readFile(file);
        const result = await attackImage(runtime, bytes, { maxPixels: config.maxImagePixels }, options);
        const out = names.next(file);
        await fs.writeFile(out, result.png);
        if (result.success) succeeded++;
        const line: AttackLine = {
          path: file,
          out,
          originalClass: result.originalClass,
          adversarialClass: result.adversarialClass,
          success: result.success,
          linf: result.linf,
          l2: result.l2,
        };
        io.stdout.write(`${JSON.stringify(line)}\n`);
      } catch (error) {
        failed++;
        io.stdout.write(`${JSON.stringify({ path: file, error: fileErrorMessage(error) })}\n`);
      }
      const seconds = (performance.now() - started) / 1000;
      say(
        `${i + 1}/${files.length} images, ${succeeded} reached class ${options.target}, ${(seconds / (i + 1)).toFixed(1)} s/image`,
      );
    }
  } finally {
    await runtime.release();
  }
  return failed ? 1 : 0;
}

/** DIR/<input name>.png, with -2, -3… when two inputs share a name */
class OutputNames {
  readonly #taken = new Set<string>();
  constructor(private readonly dir: string) {}

  next(file: string): string {
    const base = path.basename(file, path.extname(file));
    let name = `${base}.png`;
    for (let n = 2; this.#taken.has(name); n++) name = `${base}-${n}.png`;
    this.#taken.add(name);
    return path.join(this.dir, name);
  }
}
