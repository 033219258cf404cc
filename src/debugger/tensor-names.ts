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
 * Other names a tensor answers to in a regex (an include regex, and trial.tensorNames): smdebug's names
 * for the same tensor of the PyTorch ResNet the write-up hooked, and the ONNX graph's input name.
 * smdebug named a module's output `<module>_output_0`, the gradient of that output
 * `gradient/<module>_output_0`, a parameter `ResNet_<module>.<parameter>` and the model's input
 * `ResNet_input`; the sites' modules are the manifest's (`layer2.0.downsample.1` for a downsample's
 * folded BatchNorm). So the write-up's regexes select what they selected there:
 * `.*bn|.*bias|.*downsample|.*ResNet_input|.*image` the FullGrad tensors,
 * `.*gradient.*bn.*output|.*gradient.*downsample.1.*output` every site's output_grad, and
 * `^(?=.*bias)(?:(?!fc).)*$` every site's bias but not fc.bias.
 */
const FIXED_ALIASES: Record<string, string[]> = {
  input: ['image', 'ResNet_input', 'ResNet_input_0'],
  input_grad: ['image_grad', 'ResNet_input_grad'],
  logits: ['ResNet_output_0'],
  'fc.bias': ['ResNet_fc.bias'],
};

/** a tensor's other names (none for a name the model does not have) */
export function aliasesOf(name: string, sites: readonly TensorSite[]): string[] {
  const fixed = FIXED_ALIASES[name];
  if (fixed) return fixed;
  for (const site of sites) {
    if (name === `${site.name}.output`) return [`${site.module}_output_0`];
    if (name === `${site.name}.output_grad`) return [`gradient/${site.module}_output_0`];
    if (name === `${site.name}.bias`) return [`ResNet_${site.module}.bias`];
  }
  return [];
}

/** each name with the other names it answers to: a regex selects it when it matches any */
export function regexCandidates(catalog: Pick<TensorCatalog, 'names' | 'sites'>): string[][] {
  return catalog.names.map((name) => [name, ...aliasesOf(name, catalog.sites)]);
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
