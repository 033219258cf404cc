/**
 * The models on disk: each folder under MODEL_DIR with a manifest.json is a model, named by its folder.
 * Reading is cheap and done again on a miss, so a model copied in while the server runs is found.
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

export class ModelCatalog {
  #entries = new Map<string, ModelEntry>();

  constructor(readonly modelDir: string) {
    this.refresh();
  }

  refresh(): void {
    const entries = new Map<string, ModelEntry>();
    if (fs.existsSync(this.modelDir)) {
      for (const name of fs.readdirSync(this.modelDir).sort()) {
        const dir = path.join(this.modelDir, name);
        const manifestFile = path.join(dir, 'manifest.json');
        if (!fs.existsSync(manifestFile)) continue;
        const manifest = parseManifest(JSON.parse(fs.readFileSync(manifestFile, 'utf8')), manifestFile);
        const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8')) as string[];
        entries.set(name, { name, dir, manifest, labels });
      }
    }
    this.#entries = entries;
  }

  list(): ModelEntry[] {
    return [...this.#entries.values()];
  }

  get(name: string): ModelEntry | undefined {
    if (!this.#entries.has(name)) this.refresh();
    return this.#entries.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}
