/**
 * A saliency map of any class, by running the debug graph: the seed one-hot(class) makes every
 * gradient the chosen class's, and every site's output_grad comes back with it, so the map and the
 * completeness check are the stored-step path's, for that class. Used when a capture is explained for
 * a class other than the one its step stored, for uploaded images (`explain`), and for the methods that
 * always run the graph: GRAD_CAM (one run fetching the last stage's outputs) and INTEGRATED_GRADIENTS
 * (the path's images, IG_BATCH per run).
 */
import {
  type Completeness,
  completenessFromTerms,
  completeness as completenessOf,
  type ModelRunMethod,
  methodNeeds,
  type SaliencyMapData,
  type SaliencyMethod,
  type SiteGradient,
  saliencyMap,
} from '../explain/fullgrad.ts';
import { GRAD_CAM_OUTPUTS, gradCam } from '../explain/gradcam.ts';
import {
  DEFAULT_IG,
  type IgCompleteness,
  type IgOptions,
  igBaseline,
  integratedGradients,
} from '../explain/integrated-gradients.ts';
import type { ModelRuntime } from '../models/runtime.ts';

export interface ClassExplanation {
  map: SaliencyMapData;
  /** FullGrad's decomposition (FullGrad family), IG's f(x′) + Σ attr (INTEGRATED_GRADIENTS), else null */
  completeness: Completeness | null;
  /** INTEGRATED_GRADIENTS only */
  integratedGradients: IgCompleteness | null;
  /** GRAD_CAM only: relu(Σ_c α_c A[c]) at the stage's resolution, row-major */
  gradCam: { width: number; height: number; values: Float64Array } | null;
  /** INTEGRATED_GRADIENTS only: (x − x′) ⊙ averaged gradient, [3, H, W] */
  attributions: Float64Array | null;
}

export interface ExplainOptions {
  /** INTEGRATED_GRADIENTS' steps and baseline (default 32 steps from BLACK) */
  ig?: IgOptions;
}

/** `input`: one normalised image [3,H,W]; `classId`: the class explained (0 … classes − 1) */
export async function explainClass(
  runtime: ModelRuntime,
  input: Float32Array,
  classId: number,
  method: SaliencyMethod,
  options: ExplainOptions = {},
): Promise<ClassExplanation> {
  if (method === 'GRAD_CAM' || method === 'INTEGRATED_GRADIENTS')
    return explainByRuns(runtime, input, classId, method, options);
  const { manifest } = runtime.entry;
  const [h, w] = manifest.inputSize;
  const sites = manifest.tensorSites;
  const run = await runtime.runDebug(
    input,
    1,
    ['input_grad', ...sites.map((s) => s.outputGrad)],
    oneHot(runtime, 1, classId),
  );
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
  return { map, completeness, integratedGradients: null, gradCam: null, attributions: null };
}

async function explainByRuns(
  runtime: ModelRuntime,
  input: Float32Array,
  classId: number,
  method: ModelRunMethod,
  options: ExplainOptions,
): Promise<ClassExplanation> {
  const { manifest } = runtime.entry;
  const [h, w] = manifest.inputSize;
  const shape = [3, h, w] as const;
  const none = { completeness: null, integratedGradients: null, gradCam: null, attributions: null };
  if (method === 'GRAD_CAM') {
    const names = Object.values(GRAD_CAM_OUTPUTS);
    const site = manifest.tensorSites.find((s) => s.output === GRAD_CAM_OUTPUTS.lastBlock);
    if (!site) throw new Error(`model ${manifest.name} has no ${GRAD_CAM_OUTPUTS.lastBlock} for Grad-CAM`);
    const run = await runtime.runDebug(input, 1, names, oneHot(runtime, 1, classId));
    const out = (name: string) => run.outputs.get(name)!.data;
    const result = gradCam({
      firstBlock: out(GRAD_CAM_OUTPUTS.firstBlock),
      firstShortcut: out(GRAD_CAM_OUTPUTS.firstShortcut),
      lastBlock: out(GRAD_CAM_OUTPUTS.lastBlock),
      lastBlockGrad: out(GRAD_CAM_OUTPUTS.lastBlockGrad),
      shape: site.shape,
      outputSize: [h, w],
    });
    return {
      ...none,
      map: { method, width: w, height: h, values: result.values, terms: { input: 0, bias: null } },
      gradCam: { width: site.shape[2], height: site.shape[1], values: result.cam },
    };
  }
  const ig = options.ig ?? DEFAULT_IG;
  const baseline = igBaseline(ig.baseline, input, shape, manifest);
  const result = await integratedGradients(
    (images, n) => runtime.runInputGradient(images, n, oneHot(runtime, n, classId)),
    input,
    baseline,
    shape,
    classId,
    ig,
  );
  const c = result.completeness;
  const explained = c.baselineLogit + c.attributionSum;
  return {
    ...none,
    map: { method, width: w, height: h, values: result.values, terms: { input: c.attributionSum, bias: null } },
    completeness: {
      classId,
      logit: c.logit,
      explained,
      residual: Math.abs(c.logit - explained) / Math.abs(c.logit),
    },
    integratedGradients: c,
    attributions: result.attributions,
  };
}

/** n rows of one-hot(classId) */
function oneHot(runtime: ModelRuntime, n: number, classId: number): Float32Array<ArrayBuffer> {
  const classes = runtime.classCount;
  const seed = new Float32Array(n * classes);
  for (let j = 0; j < n; j++) seed[j * classes + classId] = 1;
  return seed;
}
