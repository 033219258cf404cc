/**
 * A baseline's predictions from a server-side directory of images (searched recursively): each image
 * is decoded, preprocessed and run through the endpoint's model exactly as a request would be, in
 * batches; progress goes to the log. Unreadable images count as missing outputs.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../errors.ts';
import { prepareImage, writeNormalised, type DecodeLimits } from '../inference/preprocess.ts';
import { softmax } from '../inference/scores.ts';
import { specOf } from '../inference/service.ts';
import type { Logger } from '../logger.ts';
import type { ModelRuntime } from '../models/runtime.ts';

const IMAGE = /\.(png|jpe?g|webp|ppm|npy)$/i;
const BATCH = 16;
const PROGRESS_MS = 2000;

export type Prediction = { classId: number; confidence: number } | null;

/**
 * The image files under `dir`, sorted; `limit` picks that many spread evenly over the sorted list.
 * `dir` must lie inside one of `allowedRoots` once symbolic links and `..` are resolved: a GraphQL
 * client names the directory, and the server should not read (or confirm the existence of) others.
 */
export async function listImages(dir: string, allowedRoots: readonly string[], limit?: number | null, field = 'directory'): Promise<string[]> {
  const root = await fs.realpath(path.resolve(dir)).catch(() => null);
  const roots = await Promise.all(allowedRoots.map((r) => fs.realpath(r).catch(() => null)));
  if (!root || !roots.some((r) => r !== null && (root === r || root.startsWith(r.endsWith(path.sep) ? r : r + path.sep)))) {
    throw new ValidationError(
      field,
      `Directory '${dir}' is not inside a directory baselines may read (BASELINE_ROOTS: ${allowedRoots.join(', ') || 'none'}), or does not exist`,
    );
  }
  const stat = await fs.stat(root);
  if (!stat.isDirectory()) throw new ValidationError(field, `'${dir}' is not a directory`);
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && IMAGE.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  if (files.length === 0) throw new ValidationError(field, `Directory '${dir}' holds no images (PNG, JPEG, WebP, PPM or .npy)`);
  if (!limit || limit >= files.length) return files;
  return Array.from({ length: limit }, (_, i) => files[Math.floor((i * files.length) / limit)]!);
}

export async function predictImages(
  files: readonly string[],
  runtime: ModelRuntime,
  limits: DecodeLimits,
  logger: Logger,
  label: string,
): Promise<Prediction[]> {
  const spec = specOf(runtime);
  const per = 3 * spec.inputSize[0] * spec.inputSize[1];
  const classes = runtime.classCount;
  const predictions: Prediction[] = [];
  let unreadable = 0;
  let lastLog = Date.now();
  const started = lastLog;
  logger.info(`baseline ${label}: predicting ${files.length} images with ${runtime.entry.name}`);
  for (let offset = 0; offset < files.length; offset += BATCH) {
    const batch = files.slice(offset, offset + BATCH);
    const tensors = new Float32Array(batch.length * per);
    const readable: boolean[] = [];
    for (const [i, file] of batch.entries()) {
      try {
        const prepared = await prepareImage(await fs.readFile(file), spec, limits);
        writeNormalised(prepared.resized, spec, tensors, i * per);
        readable.push(true);
      } catch (error) {
        readable.push(false);
        if (unreadable++ < 5) logger.warn(`baseline ${label}: skipping unreadable image`, { file, error: (error as Error).message });
      }
    }
    const logits = await runtime.runServing(tensors, batch.length);
    for (let i = 0; i < batch.length; i++) {
      if (!readable[i]) {
        predictions.push(null);
        continue;
      }
      const probabilities = softmax(logits.subarray(i * classes, (i + 1) * classes));
      let best = 0;
      for (let k = 1; k < probabilities.length; k++) if (probabilities[k]! > probabilities[best]!) best = k;
      predictions.push({ classId: best, confidence: probabilities[best]! });
    }
    if (Date.now() - lastLog >= PROGRESS_MS) {
      lastLog = Date.now();
      logger.info(`baseline ${label}: ${predictions.length}/${files.length} images`, { percent: Math.round((100 * predictions.length) / files.length) });
    }
  }
  logger.info(`baseline ${label}: ${files.length}/${files.length} images predicted`, { unreadable, ms: Date.now() - started });
  return predictions;
}
