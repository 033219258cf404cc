/**
 * Attack success toward Stop (class 14) on GTSRB validation images, per method: the success rate (the
 * 8-bit PNG, decoded again through the predict path, is Stop) and the median L2 and L∞ of the
 * perturbation in pixel levels, over the successful images. The baseline, measured in the same run:
 * uniform random noise of the same L∞ as PGD (what an attack owes to the gradient, not to the budget).
 *
 *   GTSRB_DIR=<extracted training set> npm run -s bench:attack [-- --images 100]
 *
 * Images: the validation split's tracks (models/gtsrb-resnet18/validation-split.json), classes other than
 * Stop, the middle image of each track, evenly spread over that list. Needs GTSRB_DIR; the images are
 * read, never copied.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attackImage } from '../src/attack/attack-image.ts';
import { ATTACK_METHODS, type AttackMethod } from '../src/attack/methods.ts';
import { DEFAULT_ITERATIONS } from '../src/attack/service.ts';
import { createLogger } from '../src/logger.ts';
import { ModelCatalog } from '../src/models/catalog.ts';
import { ModelRuntime } from '../src/models/runtime.ts';
import { machineFacts, median, progress, table } from './common.ts';

const STOP = 14;
const EPSILON = 8;
const LIMITS = { maxPixels: 25_000_000 };

function imagesRoot(dir: string): string {
  for (const candidate of [path.join(dir, 'Final_Training', 'Images'), path.join(dir, 'Images'), dir]) {
    if (fs.existsSync(path.join(candidate, '00000'))) return candidate;
  }
  throw new Error(`GTSRB_DIR=${dir}: no class folders (00000…00042) under it, Final_Training/Images or Images`);
}

/** the middle image of each validation track of a class other than Stop, `count` of them evenly spread */
function sample(root: string, count: number): string[] {
  const split = JSON.parse(fs.readFileSync('models/gtsrb-resnet18/validation-split.json', 'utf8')) as {
    classes: Record<string, number[]>;
  };
  const files: string[] = [];
  for (const [classDir, tracks] of Object.entries(split.classes)) {
    if (Number(classDir) === STOP) continue;
    const names = fs.readdirSync(path.join(root, classDir)).filter((f) => f.endsWith('.ppm'));
    for (const track of tracks) {
      const prefix = `${String(track).padStart(5, '0')}_`;
      const ofTrack = names.filter((n) => n.startsWith(prefix)).sort();
      if (ofTrack.length) files.push(path.join(root, classDir, ofTrack[Math.floor(ofTrack.length / 2)]!));
    }
  }
  files.sort();
  const step = files.length / Math.min(count, files.length);
  return Array.from({ length: Math.min(count, files.length) }, (_, i) => files[Math.floor(i * step)]!);
}

interface Row {
  success: boolean;
  l2: number;
  linf: number;
  seconds: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { images: { type: 'string', default: '100' } } });
  const dir = process.env.GTSRB_DIR?.trim();
  if (!dir) {
    progress('GTSRB_DIR is not set: nothing to measure (it names an extracted GTSRB training set)');
    return;
  }
  const files = sample(imagesRoot(dir), Number(values.images));
  const entry = new ModelCatalog('models').get('gtsrb-resnet18')!;
  const runtime = await ModelRuntime.load(entry, 'cpu', createLogger('error'));

  const results = new Map<string, Row[]>();
  const methods: (AttackMethod | 'NOISE')[] = ['NOISE', ...ATTACK_METHODS];
  for (const method of methods) {
    const rows: Row[] = [];
    for (const [i, file] of files.entries()) {
      const bytes = fs.readFileSync(file);
      const started = performance.now();
      // the baseline: PGD's random start alone (no gradient step) is uniform noise in the same ball
      const attack = method === 'NOISE' ? 'PGD' : method;
      const result = await attackImage(runtime, bytes, LIMITS, {
        method: attack,
        target: STOP,
        maxIterations: method === 'NOISE' ? 1 : DEFAULT_ITERATIONS[attack],
        epsilon: attack === 'FGSM' ? 4 * EPSILON : EPSILON,
        stepSize: method === 'NOISE' ? 1e-9 : undefined,
      });
      rows.push({
        success: result.success,
        l2: result.l2,
        linf: result.linf,
        seconds: (performance.now() - started) / 1000,
      });
      if ((i + 1) % 10 === 0 || i + 1 === files.length) {
        const ok = rows.filter((r) => r.success).length;
        progress(`${method}: ${i + 1}/${files.length} images, ${ok} reached Stop`);
      }
    }
    results.set(method, rows);
  }
  await runtime.release();

  const noise = results.get('NOISE')!;
  const rate = (rows: Row[]) => rows.filter((r) => r.success).length / rows.length;
  const report = [['method', 'settings', 'success %', 'vs noise', 'median L2', 'median L∞', 's/image']];
  for (const method of methods) {
    const rows = results.get(method)!;
    const ok = rows.filter((r) => r.success);
    const settings =
      method === 'DEEPFOOL'
        ? '100 it, overshoot 0.02'
        : method === 'FGSM'
          ? `ε ${4 * EPSILON}, 1 step`
          : method === 'NOISE'
            ? `uniform ±${EPSILON}`
            : `ε ${EPSILON}, 20 it, step ${EPSILON / 4}`;
    report.push([
      method.toLowerCase(),
      settings,
      (100 * rate(rows)).toFixed(1),
      method === 'NOISE' ? '1' : rate(noise) > 0 ? `${(rate(rows) / rate(noise)).toFixed(1)}×` : 'noise: 0',
      ok.length ? median(ok.map((r) => r.l2)).toFixed(0) : '–',
      ok.length ? median(ok.map((r) => r.linf)).toFixed(0) : '–',
      median(rows.map((r) => r.seconds)).toFixed(2),
    ]);
  }
  console.log(machineFacts({ images: `${files.length} GTSRB validation images (not Stop), target Stop (14)` }));
  console.log();
  console.log(table(report));
  console.log('\nL2 and L∞: of the successful images, in pixel levels (0–255) over the 128×128×3 values');
}

await main();
