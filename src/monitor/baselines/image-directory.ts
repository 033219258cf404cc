/**
 * A baseline's predictions from a server-side directory of images (searched recursively): the files
 * inside BASELINE_ROOTS go through classifyFiles (decoded and preprocessed as a request's image, run
 * in batches through the endpoint's model); progress goes to the log. Unreadable images count as
 * missing outputs.
 */
import fs from 'node:fs/promises';
import { ValidationError } from '../../errors.ts';
import { classifyFiles, listImageFiles } from '../../inference/classify-files.ts';
import type { DecodeLimits } from '../../inference/preprocess.ts';
import type { Logger } from '../../logger.ts';
import type { ModelRuntime } from '../../models/runtime.ts';
import { realPathInside } from '../../paths.ts';
import type { ProfileItem } from './input-profile.ts';

const BATCH = 16;
const PROGRESS_MS = 2000;

export type Prediction = { classId: number; confidence: number } | null;

/**
 * The image files under `dir` (listImageFiles: regular files only, so a link cannot lead out of the
 * root), sorted; `limit` picks that many spread evenly over the sorted list.
 * `dir` must lie inside one of `allowedRoots` once symbolic links and `..` are resolved: a GraphQL
 * client names the directory, and the server should not read (or confirm the existence of) others.
 */
export async function listImages(
  dir: string,
  allowedRoots: readonly string[],
  limit?: number | null,
  field = 'directory',
): Promise<string[]> {
  const root = await realPathInside(dir, allowedRoots);
  if (!root) {
    throw new ValidationError(
      field,
      `Directory '${dir}' is not inside a directory baselines may read (BASELINE_ROOTS: ${allowedRoots.join(', ') || 'none'}), or does not exist`,
    );
  }
  const stat = await fs.stat(root);
  if (!stat.isDirectory()) throw new ValidationError(field, `'${dir}' is not a directory`);
  const files = await listImageFiles(root);
  if (files.length === 0)
    throw new ValidationError(field, `Directory '${dir}' holds no images (PNG, JPEG, WebP, PPM or .npy)`);
  if (!limit || limit >= files.length) return files;
  return Array.from({ length: limit }, (_, i) => files[Math.floor((i * files.length) / limit)]!);
}

/**
 * each file's predicted class and its probability, in order (null for a file that could not be read),
 * and the features and image statistics of those that could (the baseline's input profile)
 */
export async function predictImages(
  files: readonly string[],
  runtime: ModelRuntime,
  limits: DecodeLimits,
  logger: Logger,
  label: string,
): Promise<{ predictions: Prediction[]; inputs: ProfileItem[] }> {
  const predictions: Prediction[] = [];
  const inputs: ProfileItem[] = [];
  let unreadable = 0;
  let lastLog = Date.now();
  const started = lastLog;
  const progress = (done: number, total: number) => {
    if (Date.now() - lastLog < PROGRESS_MS) return;
    lastLog = Date.now();
    logger.info(`baseline ${label}: ${done}/${total} images`, { percent: Math.round((100 * done) / total) });
  };
  logger.info(`baseline ${label}: predicting ${files.length} images with ${runtime.entry.name}`);
  for await (const result of classifyFiles(runtime, files, { batch: BATCH, limits, onProgress: progress })) {
    if ('error' in result) {
      predictions.push(null);
      if (unreadable++ < 5)
        logger.warn(`baseline ${label}: skipping unreadable image`, { file: result.path, error: result.error });
      continue;
    }
    const p = result.probabilities;
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
    predictions.push({ classId: best, confidence: p[best]! });
    inputs.push({ features: result.features, imageStats: result.imageStats });
  }
  logger.info(`baseline ${label}: ${files.length}/${files.length} images predicted`, {
    unreadable,
    ms: Date.now() - started,
  });
  return { predictions, inputs };
}
