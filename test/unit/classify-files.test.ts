/**
 * One routine classifies image files for the CLI's `predict` and a baseline from a directory: both
 * find the same files (one set of extensions) and get the same results as the server's preprocessing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PredictErrorLine, type PredictLine, predictFiles } from '../../src/cli/predict.ts';
import {
  classifyFiles,
  collectImageFiles,
  type FileClassification,
  IMAGE_EXTENSIONS,
  listImageFiles,
} from '../../src/inference/classify-files.ts';
import { createLogger } from '../../src/logger.ts';
import { ModelCatalog } from '../../src/models/catalog.ts';
import { ModelRuntime } from '../../src/models/runtime.ts';
import { listImages, predictImages } from '../../src/monitor/baselines/image-directory.ts';
import { asNpy, FIXTURE_DIR, fixture, fixturePrediction } from '../helpers/images.ts';

const LIMITS = { maxPixels: 50_000_000 };

describe('image files: one set of extensions for the CLI and baselines', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-classify-'));
    fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    for (const name of [
      'a.png',
      'b.JPG',
      'c.jpeg',
      'd.webp',
      'e.ppm',
      'f.npy',
      'sub/g.PNG',
      'sub/deeper/h.Npy',
      'notes.txt',
      'labels.json',
      'png',
      'sub/x.gif',
      'sub/y.tiff',
    ]) {
      fs.writeFileSync(path.join(dir, name), 'not decoded here');
    }
    fs.symlinkSync(path.join(dir, 'a.png'), path.join(dir, 'link.png'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes .png .jpg .jpeg .webp .ppm .npy in any case, recursively, sorted', async () => {
    expect([...IMAGE_EXTENSIONS].sort()).toEqual(['.jpeg', '.jpg', '.npy', '.png', '.ppm', '.webp']);
    const expected = ['a.png', 'b.JPG', 'c.jpeg', 'd.webp', 'e.ppm', 'f.npy', 'sub/deeper/h.Npy', 'sub/g.PNG'].map(
      (n) => path.join(dir, n),
    );
    expect(await listImageFiles(dir)).toEqual(expected);
  });

  it('finds the same files for `vigil predict <dir>` and a baseline from that directory', async () => {
    const cli = await collectImageFiles([dir], { symlinkedFiles: true });
    const baseline = await listImages(dir, [dir]);
    // the CLI also takes links to files; a baseline does not (a link could lead out of BASELINE_ROOTS)
    expect(cli.filter((f) => !f.endsWith('link.png'))).toEqual(
      baseline.map((f) => path.join(dir, path.relative(fs.realpathSync(dir), f))),
    );
    expect(cli).toContain(path.join(dir, 'link.png'));
    expect(baseline.some((f) => f.endsWith('link.png'))).toBe(false);
  });

  it('keeps a file named on the command line whatever its extension', async () => {
    const named = path.join(dir, 'notes.txt');
    expect(await collectImageFiles([named, dir])).toEqual([named, ...(await listImageFiles(dir))]);
  });
});

describe('classifyFiles', () => {
  const catalog = new ModelCatalog('models');
  let runtime: ModelRuntime;
  let dir: string;
  beforeAll(async () => {
    runtime = await ModelRuntime.load(catalog.get('gtsrb-resnet18')!, 'cpu', createLogger('silent'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-classify-'));
    fs.writeFileSync(path.join(dir, 'stop.npy'), await asNpy(fixture('stop_like_octagon.png')));
    fs.copyFileSync(path.join(FIXTURE_DIR, 'stop_like_octagon.png'), path.join(dir, 'stop.png'));
    fs.writeFileSync(path.join(dir, 'broken.png'), 'not an image');
  });
  afterAll(async () => {
    await runtime?.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('yields one result per file in input order, errors in place, across batches', async () => {
    const files = [...(await listImageFiles(dir)), path.join(dir, 'missing.png')];
    const progress: [number, number][] = [];
    const results: FileClassification[] = [];
    for await (const r of classifyFiles(runtime, files, {
      batch: 2,
      limits: LIMITS,
      onProgress: (done, total) => progress.push([done, total]),
    }))
      results.push(r);
    expect(results.map((r) => path.basename(r.path))).toEqual(['broken.png', 'stop.npy', 'stop.png', 'missing.png']);
    expect(results[0]).toMatchObject({ error: expect.stringMatching(/Unsupported or unrecognised image format/) });
    expect(results[3]).toEqual({ path: files[3], error: 'no such file or directory' });
    const [npy, png] = [results[1], results[2]].map((r) => (r && 'probabilities' in r ? r.probabilities : undefined));
    expect(npy!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // the .npy holds the PNG's pixels: the same input, the same prediction
    expect([...npy!]).toEqual([...png!]);
    expect(progress).toEqual([
      [2, 4],
      [4, 4],
    ]);
  });

  it('gives the CLI and a baseline the same prediction for the same file', async () => {
    const files = await listImageFiles(dir);
    const lines: (PredictLine | PredictErrorLine)[] = [];
    const failed = await predictFiles(runtime, catalog, files, {
      batch: 32,
      limits: LIMITS,
      onLine: (l) => lines.push(l),
    });
    const { predictions: baseline, inputs } = await predictImages(
      files,
      runtime,
      LIMITS,
      createLogger('silent'),
      'test',
    );
    expect(failed).toBe(1);
    expect(baseline[0]).toBeNull();
    expect(lines.map((l) => ('error' in l ? null : { classId: l.predictedClass, confidence: l.confidence }))).toEqual(
      baseline,
    );
    const { predictedClass, predictedLabel } = fixturePrediction('stop_like_octagon.png');
    expect(lines[1]).toMatchObject({ predictedClass, label: predictedLabel });
    // the readable files' features (the serving graph's second output) and image statistics
    expect(inputs).toHaveLength(files.length - 1);
    for (const input of inputs) {
      expect(input.features).toHaveLength(512);
      expect(input.imageStats?.brightness).toBeGreaterThan(0);
    }
  });
});
