/**
 * The tensor names a model's debug graph offers, readable and stable (`input`, `input_grad`,
 * `layer1.0.bn1.output`, `layer1.0.bn1.output_grad`, `layer1.0.bn1.bias`, `fc.bias`), and which of
 * them a hook configuration selects.
 */
import type { ModelManifest, TensorSite } from '../models/manifest.ts';
import { COLLECTIONS, isCollectionName } from './collections.ts';

export type { TensorSite } from '../models/manifest.ts';

/** where a tensor's values come from */
export type TensorSource =
  | { kind: 'input' }
  | { kind: 'output'; output: string }
  | { kind: 'constant'; values: number[] };

export interface TensorCatalog {
  names: string[];
  sources: Map<string, TensorSource>;
  sites: TensorSite[];
}

export function tensorCatalog(manifest: ModelManifest): TensorCatalog {
  const sites = manifest.tensorSites;
  const sources = new Map<string, TensorSource>();
  sources.set('input', { kind: 'input' });
  sources.set('input_grad', { kind: 'output', output: 'input_grad' });
  for (const site of sites) {
    sources.set(`${site.name}.output`, { kind: 'output', output: site.output });
    sources.set(`${site.name}.output_grad`, { kind: 'output', output: site.outputGrad });
    sources.set(`${site.name}.bias`, { kind: 'constant', values: site.bias });
  }
  const { fcBias } = manifest;
  if (fcBias) sources.set('fc.bias', { kind: 'constant', values: fcBias });
  sources.set('logits', { kind: 'output', output: 'logits' });
  return { names: [...sources.keys()], sources, sites };
}

/**
 * Other names the input tensors answer to in an include regex: smdebug called a PyTorch ResNet's input
 * `ResNet_input`, and the ONNX graph calls it `image`, so the write-up's regex
 * (`.*bn|.*bias|.*downsample|.*ResNet_input|.*image`) selects the input and its gradient.
 */
const ALIASES: Record<string, string[]> = {
  input: ['image', 'ResNet_input'],
  input_grad: ['image_grad', 'ResNet_input_grad'],
};

/** each catalog name with the other names it answers to: an include regex selects it when it matches any */
export function regexCandidates(catalog: TensorCatalog): string[][] {
  return catalog.names.map((name) => [name, ...(ALIASES[name] ?? [])]);
}

/**
 * smdebug semantics: a tensor is saved when the include regex matches one of its names from the
 * start (Python's re.match) or a named collection contains it. The regex has been resolved to the
 * names it selects (include-regex.ts) when it was saved: here it is a set lookup.
 */
export function selectTensors(
  catalog: TensorCatalog,
  hook: { included: ReadonlySet<string> | null; collections: readonly string[] },
): string[] {
  const collections = hook.collections.filter(isCollectionName).map((c) => COLLECTIONS[c]);
  return catalog.names.filter((name) => hook.included?.has(name) || collections.some((re) => re.test(name)));
}
