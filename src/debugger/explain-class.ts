/**
 * A saliency map of any class, by running the debug graph: the seed one-hot(class) makes every
 * gradient the chosen class's, and every site's output_grad comes back with it, so the map and the
 * completeness check are the stored-step path's, for that class. Used when a capture is explained for
 * a class other than the one its step stored, and for uploaded images (`explain`).
 */
import {
  type Completeness,
  completenessFromTerms,
  completeness as completenessOf,
  methodNeeds,
  type SaliencyMapData,
  type SaliencyMethod,
  type SiteGradient,
  saliencyMap,
} from '../explain/fullgrad.ts';
import type { ModelRuntime } from '../models/runtime.ts';

export interface ClassExplanation {
  map: SaliencyMapData;
  completeness: Completeness | null;
  logits: Float32Array;
}

/** `input`: one normalised image [3,H,W]; `classId`: the class explained (0 … classes − 1) */
export async function explainClass(
  runtime: ModelRuntime,
  input: Float32Array,
  classId: number,
  method: SaliencyMethod,
): Promise<ClassExplanation> {
  const { manifest } = runtime.entry;
  const [h, w] = manifest.inputSize;
  const seed = new Float32Array(runtime.classCount);
  seed[classId] = 1;
  const sites = manifest.tensorSites;
  const run = await runtime.runDebug(input, 1, ['input_grad', ...sites.map((s) => s.outputGrad)], seed);
  const inputGrad = run.outputs.get('input_grad')!.data;
  const gradients: SiteGradient[] = sites.map((site) => ({
    name: site.name,
    shape: site.shape,
    grad: run.outputs.get(site.outputGrad)!.data,
    bias: site.bias,
  }));
  const needs = methodNeeds(method);
  const map = saliencyMap(method, {
    input,
    inputGrad,
    inputShape: [3, h, w],
    sites: needs.sites ? gradients : [],
  });
  const { fcBias } = manifest;
  let completeness: Completeness | null = null;
  if (fcBias) {
    // the sums came with the map when it read every site with its bias; else one more pass
    completeness = needs.biases
      ? completenessFromTerms(map.terms, fcBias, run.logits, classId)
      : completenessOf({ input, inputGrad, sites: gradients, fcBias, logits: run.logits, classId });
  }
  return { map, completeness, logits: run.logits };
}
