/** models/<name>/manifest.json, written by training/export.py: what the server needs to run a model. */

export interface ModelManifest {
  name: string;
  version: string;
  inputSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  classCount: number;
  [key: string]: unknown;
}

export function parseManifest(raw: unknown, source: string): ModelManifest {
  const m = raw as Partial<ModelManifest>;
  const fail = (what: string) => {
    throw new Error(`${source}: ${what}`);
  };
  if (!m || typeof m !== 'object') fail('not a JSON object');
  if (typeof m.version !== 'string') fail('missing "version"');
  if (!Array.isArray(m.inputSize) || m.inputSize.length !== 2) fail('"inputSize" must be [height, width]');
  if (!Array.isArray(m.mean) || m.mean.length !== 3) fail('"mean" must have 3 values');
  if (!Array.isArray(m.std) || m.std.length !== 3) fail('"std" must have 3 values');
  if (typeof m.classCount !== 'number') fail('missing "classCount"');
  return m as ModelManifest;
}
