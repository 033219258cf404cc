/**
 * `vigil demo` end to end on the bundled fixtures (4 of them, each attacked toward Stop with DeepFool),
 * in-process on a temporary SQLite database: the clean window completes, the adversarial one completes
 * with the class-14 violation, the subscription receives the alert, and index.html references PNGs that
 * exist beside it. Every request is captured (--sampling 100) so that the counts are exact.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/cli/demo/report.ts';
import { demoCommand } from '../../src/cli/demo.ts';
import { FIXTURE_DIR } from '../helpers/images.ts';

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

// the same in-process SQLite run on either project: once is enough
describe.skipIf(process.env.VIGIL_TEST_DB === 'postgres')('vigil demo', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))));

  it('tells the story: Completed, then CompletedWithViolations for class 14 with its alert, and a report', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-demo-test-'));
    dirs.push(tmp);
    const images = path.join(tmp, 'images');
    await fs.mkdir(images);
    // four fixtures DeepFool takes to Stop in a few steps
    for (const name of ['blue_arrow_circle.jpg', 'gradient_128.png', 'grey_31x23.png', 'noise.png'])
      await fs.copyFile(path.join(FIXTURE_DIR, name), path.join(images, name));
    const out = path.join(tmp, 'report');
    const stdout = sink();
    const stderr = sink();
    const code = await demoCommand(['demo', '--images', images, '--count', '4', '--sampling', '100', '--out', out], {
      stdout,
      stderr,
      env: { ...process.env, GTSRB_DIR: undefined, INFERENCE_DEVICE: 'cpu' },
    });
    expect(code, stderr.text).toBe(0);

    const summary = JSON.parse(await fs.readFile(path.join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.clean).toMatchObject({ sent: 4, captured: 4 });
    expect(summary.executions.clean.status).toBe('Completed');
    expect(summary.attack.attacked).toBe(4);
    expect(summary.attack.successful).toBeGreaterThanOrEqual(3);
    expect(summary.adversarial.sent).toBe(4);
    expect(summary.executions.adversarial.status).toBe('CompletedWithViolations');
    expect(summary.executions.adversarial.message).toMatch(
      /^CompletedWithViolations: Class 14 \(Stop\) predicted \d+\.\d\d% of the time: exceeded 50\.00% threshold$/,
    );
    expect(summary.executions.adversarial.violations.map((v) => v.check)).toContain('CLASS_SHARE');
    const stop = summary.executions.adversarial.classCounts.find((c) => c.classId === 14);
    expect(stop?.count).toBe(summary.adversarial.predictedStop);
    // the alert, as the subscription received it while the run finished
    expect(summary.alert).toMatchObject({
      received: true,
      status: 'CompletedWithViolations',
      message: summary.executions.adversarial.message,
    });
    expect(stderr.text).toContain(`ALERT (graphql-ws monitorAlerts) ${summary.executions.adversarial.message}`);
    expect(summary.explained.adversarial).toMatchObject({ classId: 14, label: 'Stop' });

    const violations = JSON.parse(await fs.readFile(path.join(out, 'constraint_violations.json'), 'utf8'));
    expect(JSON.stringify(violations)).toContain('Class 14 (Stop)');

    // index.html references only PNGs that exist beside it, and every kind of figure is among them
    const html = await fs.readFile(path.join(out, 'index.html'), 'utf8');
    const sources = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!));
    expect(sources).toEqual(
      expect.arrayContaining([
        'grid-clean.png',
        'adversarial.png',
        'grid-adversarial.png',
        'saliency-clean.png',
        'saliency-adversarial.png',
        'comparison.png',
      ]),
    );
    for (const source of sources) {
      const meta = await sharp(await fs.readFile(path.join(out, source))).metadata();
      expect(meta.format, source).toBe('png');
    }
    const line = JSON.parse(stdout.text) as { status: string; alert: string };
    expect(line).toMatchObject({ status: 'CompletedWithViolations', alert: summary.alert.message });
  }, 240_000);

  it('refuses bad usage with status 2', async () => {
    const stderr = sink();
    expect(await demoCommand(['--count', '0'], { stdout: sink(), stderr, env: {} })).toBe(2);
    expect(stderr.text).toContain('--count=0');
  });
});
