import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/capture-export.ts';
import { main } from '../../src/cli/main.ts';
import { fixturePrediction } from '../helpers/images.ts';

/** runs `vigil …` in this process; what it printed, and its exit code */
async function vigil(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: '', stderr: '' };
  stdout.on('data', (d) => (chunks.stdout += d));
  stderr.on('data', (d) => (chunks.stderr += d));
  const io: CliIo = { stdout, stderr, env: {} };
  const code = await main(argv, io);
  return { code, ...chunks };
}

describe('vigil help', () => {
  it('lists the commands for --help, on stdout', async () => {
    const { code, stdout, stderr } = await vigil('--help');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^usage: vigil <command> \[options\]/);
    expect(stdout).toMatch(/\n {2}predict +classify images/);
    expect(stdout).toMatch(/\n {2}capture export +write an endpoint's captures/);
  });

  it.each([
    ['capture', '--help'],
    ['capture', '-h'],
    ['help', 'capture'],
  ])("lists the capture commands for 'vigil %s %s'", async (...argv) => {
    const { code, stdout } = await vigil(...argv);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: vigil capture <command> \[options\]\n/);
    expect(stdout).toMatch(/\n {2}export +write an endpoint's captures as SageMaker data-capture JSON Lines\n/);
    expect(stdout).toContain("run 'vigil capture <command> --help'");
  });

  it('lists the capture commands when none is given, as a usage error', async () => {
    const { code, stdout, stderr } = await vigil('capture');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^vigil capture: no command given\nusage: vigil capture <command>/);
    expect((await vigil('capture', 'import')).stderr).toMatch(
      /^unknown command: capture import\nusage: vigil capture <command>/,
    );
  });

  it.each([
    [
      'predict',
      [
        '-b, --batch N',
        '-k, --top K',
        '--files-from',
        '"predictedClass"',
        '"error"',
        'exit status',
        'MODEL_DIR',
        'vigil predict models/',
      ],
    ],
    [
      'capture export',
      [
        '-e, --endpoint NAME',
        '--from ISO',
        '-o, --out FILE',
        '"captureData"',
        'exit status',
        'DATABASE_URL',
        'vigil capture export --endpoint signs',
      ],
    ],
  ])("gives '%s' a help with its options, what it prints and an example", async (command, expected) => {
    const words = command.split(' ');
    const { code, stdout } = await vigil(...words, '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^usage: vigil ${command} `));
    for (const text of expected) expect(stdout).toContain(text);
    expect((await vigil('help', ...words)).stdout).toBe(stdout);
  });

  it('points to --help after a usage error', async () => {
    const { code, stderr } = await vigil('predict', '--batch', 'many', 'x.png');
    expect(code).toBe(2);
    expect(stderr).toContain('(vigil predict --help for more)');
  });
});

describe('vigil predict into a reader that stops early (`| head -1`)', () => {
  it('stops quietly with status 0 when the pipe closes', async () => {
    const fixtures = 'models/gtsrb-resnet18/fixtures';
    // 80 images, one a batch: lines keep coming after the reader has gone
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'predict', '--batch', '1', ...Array(10).fill(fixtures)],
      {
        env: { ...process.env, INFERENCE_DEVICE: 'cpu' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let firstLine = '';
    child.stdout.setEncoding('utf8').once('data', (d: string) => {
      firstLine = d.split('\n')[0]!;
      child.stdout.destroy();
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect(JSON.parse(firstLine)).toMatchObject({
      path: `${fixtures}/blue_arrow_circle.jpg`,
      label: fixturePrediction('blue_arrow_circle.jpg').predictedLabel,
    });
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });
});
