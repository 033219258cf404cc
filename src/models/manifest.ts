/** models/<name>/manifest.json, written by training/export.py: what the server needs to run a model. */

/** a bias site of the debug graph: a BatchNorm (folded) or downsample output, with its gradient */
export interface TensorSite {
  name: string;
  /** the PyTorch module whose output this is (e.g. layer2.0.downsample.1); smdebug named tensors after it */
  module: string;
  output: string;
  outputGrad: string;
  biasTensor: string;
  /** [C, H, W] per image */
  shape: [number, number, number];
  bias: number[];
}

export interface ModelManifest {
  name: string;
  version: string;
  inputSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  classCount: number;
  /**
   * the serving graph (defaults: model.onnx, input `image`, output `logits`); `features`, when the graph
   * has it, names a second output: the pooled vector the classifier reads, `featureSize` values per image
   */
  serving: { file: string; input: string; output: string; features: string | null; featureSize: number };
  /** the debug graph (forward and backward), when the model has one, and the outputs it offers */
  debug: { file: string; outputNames: string[] } | null;
  tensorSites: TensorSite[];
  fcBias: number[] | null;
}

type Json = Record<string, unknown>;

export function parseManifest(raw: unknown, source: string): ModelManifest {
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (!isObject(raw)) return fail('not a JSON object');
  const version = raw.version;
  if (typeof version !== 'string') return fail('missing "version"');
  const classCount = raw.classCount;
  if (typeof classCount !== 'number') return fail('missing "classCount"');
  const inputSize = numbers(raw.inputSize, 2) ?? fail('"inputSize" must be [height, width]');
  const mean = numbers(raw.mean, 3) ?? fail('"mean" must have 3 values');
  const std = numbers(raw.std, 3) ?? fail('"std" must have 3 values');
  const serving = isObject(raw.serving) ? raw.serving : {};
  const debug =
    isObject(raw.debug) && typeof raw.debug.file === 'string'
      ? { file: raw.debug.file, outputNames: strings(raw.debug.outputNames) }
      : null;
  const sites = raw.tensorSites ?? [];
  if (!Array.isArray(sites)) return fail('"tensorSites" must be a list');
  return {
    name: typeof raw.name === 'string' ? raw.name : '',
    version,
    classCount,
    inputSize: [inputSize[0]!, inputSize[1]!],
    mean: [mean[0]!, mean[1]!, mean[2]!],
    std: [std[0]!, std[1]!, std[2]!],
    serving: {
      file: typeof serving.file === 'string' ? serving.file : 'model.onnx',
      input: typeof serving.input === 'string' ? serving.input : 'image',
      output: typeof serving.output === 'string' ? serving.output : 'logits',
      ...servingFeatures(serving, fail),
    },
    debug,
    tensorSites: sites.map((site, i) => tensorSite(site) ?? fail(`tensorSites[${i}] is not a tensor site`)),
    fcBias: raw.fcBias === undefined ? null : (numbers(raw.fcBias) ?? fail('"fcBias" must be a list of numbers')),
  };
}

function servingFeatures(
  serving: Json,
  fail: (what: string) => never,
): Pick<ModelManifest['serving'], 'features' | 'featureSize'> {
  if (serving.features === undefined) return { features: null, featureSize: 0 };
  const size = serving.featureSize;
  if (typeof serving.features !== 'string') return fail('"serving.features" must name an output');
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 65_536)
    return fail('"serving.featureSize" must be the features\' width, 1–65536');
  return { features: serving.features, featureSize: size };
}

function tensorSite(raw: unknown): TensorSite | null {
  if (!isObject(raw)) return null;
  const { name, output, outputGrad, biasTensor } = raw;
  const shape = numbers(raw.shape, 3);
  const bias = numbers(raw.bias);
  if (
    typeof name !== 'string' ||
    typeof output !== 'string' ||
    typeof outputGrad !== 'string' ||
    typeof biasTensor !== 'string'
  )
    return null;
  if (!shape || !bias) return null;
  const module = typeof raw.module === 'string' ? raw.module : name;
  return { name, module, output, outputGrad, biasTensor, shape: [shape[0]!, shape[1]!, shape[2]!], bias };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** a list of finite numbers (of `length`, when given), or null */
function numbers(value: unknown, length?: number): number[] | null {
  if (!Array.isArray(value) || (length !== undefined && value.length !== length)) return null;
  return value.every((v) => typeof v === 'number' && Number.isFinite(v)) ? value : null;
}

/** the strings of a list (none when it is not one) */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
