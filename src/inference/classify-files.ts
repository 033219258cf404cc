/**
 * Classifying image files with a loaded model, outside the request path: the CLI's `predict` and a
 * baseline from a directory. Files are found with one set of extensions (the formats prepareImage
 * decodes), decoded and preprocessed as a request's image is, and run through the serving graph in
 * batches while the next batch is being decoded.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelRuntime } from '../models/runtime.ts';
import { type ImageStats, imageStats } from './image-stats.ts';
import {
  type DecodeLimits,
  type PreparedImage,
  type PreprocessSpec,
  prepareImage,
  writeNormalised,
} from './preprocess.ts';
import { softmax } from './scores.ts';

/** file extensions taken from a directory, lower case: PNG, JPEG, WebP, PPM and uint8 H×W×3 .npy */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp', '.ppm', '.npy']);

/** images decoded at the same time */
const DECODE_CONCURRENCY = 4;

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

export interface ListOptions {
  /** take symbolic links to files too (default: regular files only; links to directories are never followed) */
  symlinkedFiles?: boolean;
}

/** the image files under `dir`, recursively, sorted by code unit; paths start with `dir` as given */
export async function listImageFiles(dir: string, options: ListOptions = {}): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => (e.isFile() || (options.symlinkedFiles === true && e.isSymbolicLink())) && isImageFileName(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort(compareCodeUnits);
}

/**
 * Expands files and directories, in order: a directory becomes its image files (listImageFiles);
 * anything else stays as given (one that cannot be read gets its error when it is classified).
 */
export async function collectImageFiles(inputs: readonly string[], options: ListOptions = {}): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => undefined);
    if (stat?.isDirectory()) files.push(...(await listImageFiles(input, options)));
    else files.push(input);
  }
  return files;
}

export type FileClassification =
  | {
      path: string;
      /** softmax over the model's classes */
      probabilities: Float64Array;
      /** the serving graph's features (null for a model without them) */
      features: Float32Array | null;
      imageStats: ImageStats;
    }
  | { path: string /** why the file could not be read or decoded */; error: string };

export interface ClassifyOptions {
  /** images per model run */
  batch: number;
  limits: DecodeLimits;
  /** called after each batch's results are yielded: files done, files in all */
  onProgress?: (done: number, total: number) => void;
}

type Decoded = { path: string; prepared: PreparedImage } | { path: string; error: string };

/** Classifies `files`, yielding one result per file in input order. */
export async function* classifyFiles(
  runtime: ModelRuntime,
  files: readonly string[],
  options: ClassifyOptions,
): AsyncGenerator<FileClassification, void, undefined> {
  const spec: PreprocessSpec = runtime.entry.manifest;
  const plane = 3 * spec.inputSize[0] * spec.inputSize[1];
  const classes = runtime.classCount;
  const decode = (file: string): Promise<Decoded> =>
    fs
      .readFile(file)
      .then((bytes) => prepareImage(bytes, spec, options.limits))
      .then(
        (prepared) => ({ path: file, prepared }),
        (error: unknown) => ({ path: file, error: fileErrorMessage(error) }),
      );
  const decodeBatch = (start: number) =>
    mapLimit(files.slice(start, start + options.batch), DECODE_CONCURRENCY, decode);

  let pending: Promise<Decoded[]> | undefined = files.length ? decodeBatch(0) : undefined;
  for (let start = 0; pending; start += options.batch) {
    const decoded = await pending;
    const nextStart = start + options.batch;
    // the next batch decodes while this one runs
    pending = nextStart < files.length ? decodeBatch(nextStart) : undefined;
    // an abandoned generator leaves that decode behind: nothing may reject unobserved
    pending?.catch(() => undefined);

    const ok = decoded.filter((d): d is { path: string; prepared: PreparedImage } => 'prepared' in d);
    let logits: Float32Array | undefined;
    let features: Float32Array | null = null;
    if (ok.length) {
      const images = new Float32Array(ok.length * plane);
      ok.forEach((d, i) => writeNormalised(d.prepared.resized, spec, images, i * plane));
      ({ logits, features } = await runtime.runServingWithFeatures(images, ok.length));
    }
    const width = runtime.featureSize;
    let row = 0;
    for (const d of decoded) {
      if ('error' in d) {
        yield d;
        continue;
      }
      const { resized, width: w, height: h } = d.prepared;
      yield {
        path: d.path,
        probabilities: softmax(logits!.subarray(row * classes, (row + 1) * classes)),
        features: features?.slice(row * width, (row + 1) * width) ?? null,
        imageStats: imageStats(resized, w, h),
      };
      row++;
    }
    options.onProgress?.(Math.min(nextStart, files.length), files.length);
  }
}

/** a file's read or decode error, as a line of text */
export function fileErrorMessage(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
