/** ModelCatalog's label lookup: one fallback rule, and a miss that reads one folder, not every model. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { classLabel, ModelCatalog } from '../../src/models/catalog.ts';

function writeModel(root: string, name: string, labels: string[]): void {
  fs.mkdirSync(path.join(root, name), { recursive: true });
  const manifest = {
    name,
    version: '1',
    inputSize: [8, 8],
    mean: [0, 0, 0],
    std: [1, 1, 1],
    classCount: labels.length + 1,
  };
  fs.writeFileSync(path.join(root, name, 'manifest.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(root, name, 'labels.json'), JSON.stringify(labels));
}

describe('ModelCatalog labels', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-catalog-'));
    // three classes, two named: class 2 has no label
    writeModel(root, 'signs', ['Stop', 'Yield']);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("names a class by the model's label, else by its number", () => {
    const catalog = new ModelCatalog(root);
    expect(catalog.label('signs', 0)).toBe('Stop');
    expect(catalog.label('signs', 1)).toBe('Yield');
    expect(catalog.label('signs', 2)).toBe('2');
    expect(catalog.label('gone', 7)).toBe('7');
    expect(catalog.labels('signs')).toEqual(['Stop', 'Yield']);
    expect(catalog.labels('gone')).toBeUndefined();
    expect(classLabel(undefined, 3)).toBe('3');
    expect(classLabel(['a'], 0)).toBe('a');
  });

  it('looks for an unknown model in its own folder only, and finds one copied in later', () => {
    const catalog = new ModelCatalog(root);
    const readdir = vi.spyOn(fs, 'readdirSync');
    const readFile = vi.spyOn(fs, 'readFileSync');
    try {
      for (let i = 0; i < 100; i++) expect(catalog.label('later', 0)).toBe('0');
      expect(readdir).not.toHaveBeenCalled();
      expect(readFile).not.toHaveBeenCalled();
      writeModel(root, 'later', ['Ahead only']);
      expect(catalog.label('later', 0)).toBe('Ahead only');
      expect(readFile).toHaveBeenCalledTimes(2); // its manifest and labels
      expect(readdir).not.toHaveBeenCalled();
      expect(catalog.list().map((m) => m.name)).toEqual(['later', 'signs']);
    } finally {
      readdir.mockRestore();
      readFile.mockRestore();
    }
  });

  it('does not read outside the model folder for a name that is a path', () => {
    fs.mkdirSync(path.join(root, 'outside'), { recursive: true });
    const inner = path.join(root, 'inner');
    fs.mkdirSync(inner, { recursive: true });
    writeModel(root, 'outside-model', ['x']);
    const catalog = new ModelCatalog(inner);
    expect(catalog.get('../outside-model')).toBeUndefined();
    expect(catalog.get('..')).toBeUndefined();
    expect(catalog.label('../outside-model', 0)).toBe('0');
  });
});
