/**
 * The models on disk: each folder under MODEL_DIR with a manifest.json is a model, named by its folder.
 * The folder is scanned once; a name not found then is looked for in its own folder only (one stat), so
 * a model copied in while the server runs is found, and a miss (a label of a model that is gone) costs
 * no rescan of every model.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelManifest } from './manifest.ts';
import { parseManifest } from './manifest.ts';

export interface ModelEntry {
  name: string;
  dir: string;
  manifest: ModelManifest;
  labels: string[];
}

/** The one rule for naming a class: the model's label for it, else its number. */
export function classLabel(labels: readonly string[] | undefined, classId: number): string {
  return labels?.[classId] ?? String(classId);
}

export class ModelCatalog {
  #entries = new Map<string, ModelEntry>();

  constructor(readonly modelDir: string) {
    this.refresh();
  }

  /** reads every model folder again */
  refresh(): void {
    const entries = new Map<string, ModelEntry>();
    if (fs.existsSync(this.modelDir)) {
      for (const name of fs.readdirSync(this.modelDir).sort()) {
        const entry = this.#read(name);
        if (entry) entries.set(name, entry);
      }
    }
    this.#entries = entries;
  }

  list(): ModelEntry[] {
    return [...this.#entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): ModelEntry | undefined {
    const known = this.#entries.get(name);
    if (known) return known;
    const found = this.#read(name);
    if (found) this.#entries.set(name, found);
    return found;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** a class's name in the model's labels; its number when the model or the class has none */
  label(model: string, classId: number): string {
    return classLabel(this.get(model)?.labels, classId);
  }

  /** the model's class names in class order; undefined for an unknown model */
  labels(model: string): readonly string[] | undefined {
    return this.get(model)?.labels;
  }

  /** the model in `<modelDir>/<name>`, when that folder holds a manifest */
  #read(name: string): ModelEntry | undefined {
    // a model name is one folder name: nothing that reaches outside MODEL_DIR
    if (
      name === '' ||
      name === '.' ||
      name === '..' ||
      name.includes('/') ||
      name.includes('\\') ||
      name.includes('\0')
    )
      return undefined;
    const dir = path.join(this.modelDir, name);
    const manifestFile = path.join(dir, 'manifest.json');
    if (!fs.existsSync(manifestFile)) return undefined;
    const manifest = parseManifest(JSON.parse(fs.readFileSync(manifestFile, 'utf8')), manifestFile);
    const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8')) as string[];
    return { name, dir, manifest, labels };
  }
}
