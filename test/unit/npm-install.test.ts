/**
 * `npm ci && npm start` offline: onnxruntime-node's install script (a NuGet download of its CUDA provider) must
 * not run, and npm must not warn on every command. The `allowScripts` field of package.json does both: the script
 * is denied there, not skipped through an .npmrc key that npm 11 calls an unknown config.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const npm = (...args: string[]) => spawnSync('npm', args, { encoding: 'utf8', timeout: 30_000 });
const packageJson = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
// `npm install-scripts` and the allowScripts policy came with npm 11; npm 10 runs every install script
const hasPolicy = npm('install-scripts', 'ls', '--json').status === 0;

describe('npm install', () => {
  it('denies onnxruntime-node its install script', () => {
    expect(packageJson.allowScripts?.['onnxruntime-node']).toBe(false);
  });

  it('leaves npm nothing to warn about in the project config', () => {
    const result = npm('pkg', 'get', 'name');
    expect(result.status).toBe(0);
    expect(result.stderr).not.toMatch(/npm warn/i);
  });

  it.skipIf(!hasPolicy)('has every install script among the dependencies approved or denied', () => {
    const result = npm('install-scripts', 'ls', '--json');
    const { allowScripts } = JSON.parse(result.stdout) as { allowScripts: { name: string }[] };
    expect(allowScripts.map((p) => p.name)).toEqual([]);
  });
});
