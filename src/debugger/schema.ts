/**
 * The debugger over GraphQL: smdebug's Trial API on an endpoint's saved steps, and saliency maps
 * computed from stored tensors (on a Capture, on a step, or by capture id).
 *
 *   trial(endpoint: "x") {
 *     ... on Trial {
 *       steps(mode: PREDICT)
 *       tensorNames(step: 0, regex: ".*bn1") { ... on TensorNameList { names } ... on VigilError { message } }
 *       tensor(name: "bn1.output_grad") { ... on DebugTensor {
 *         value(step: 0) { ... on TensorValue { shape dtype data } }
 *         reduction(step: 0, kind: L2) { ... on TensorReduction { value } } } }
 *       step(step: 0) { ... on DebugStep { completeness { ... on Completeness { residual } }
 *                                          saliency(method: FULLGRAD) { ... on SaliencyMap { overlayUrl background { flagged } } } } }
 *     }
 *     ... on VigilError { code message }
 *   }
 */
import { CaptureRef } from '../capture/schema.ts';
import type { Services } from '../context.ts';
import { InvalidImageError, NotFoundError, ValidationError } from '../errors.ts';
import type { BackgroundOptions, BackgroundSaliency } from '../explain/background.ts';
import { DEFAULT_BACKGROUND_RADIUS, DEFAULT_BACKGROUND_THRESHOLD } from '../explain/background.ts';
import { COLORMAPS, type Colormap } from '../explain/colormap.ts';
import type { Completeness } from '../explain/fullgrad.ts';
import {
  DEFAULT_IG_STEPS,
  IG_BASELINES,
  IG_BLUR_SIGMA,
  type IgCompleteness,
  type IgOptions,
  MAX_IG_STEPS,
} from '../explain/integrated-gradients.ts';
import type { RenderOptions } from '../explain/render.ts';
import { pngDataUrl } from '../explain/render.ts';
import { DEFAULT_SANITY_THRESHOLD, type SanityCheck } from '../explain/sanity.ts';
import { readImageInput } from '../inference/image-input.ts';
import { modelOf } from '../inference/model-of.ts';
import { ImageInput } from '../inference/schema.ts';
import { builder } from '../schema/builder.ts';
import { REDUCTION_KINDS, type ReductionKind } from './reductions.ts';
import {
  type ComputedSaliency,
  DEFAULT_RENDER,
  igOf,
  imageQuery,
  MAX_RENDER_SIZE,
  MIN_RENDER_SIZE,
  parseIg,
  parseMethod,
  parseRender,
  SALIENCY_METHODS,
  type SaliencyMethod,
  validateBackground,
  validateSanityThreshold,
} from './saliency.ts';
import { MAX_LISTED_STEPS, MODE_KEYS, type TensorRecord } from './store.ts';
import type { StepRef, TensorValue, Trial, TrialTensor } from './trial.ts';

const ModeKeysEnum = builder.enumType('ModeKeys', {
  description: "smdebug's modes; an inference endpoint saves PREDICT steps only (GLOBAL: every mode)",
  values: MODE_KEYS,
});

const ReductionKindEnum = builder.enumType('ReductionKind', {
  description: "smdebug's reduction_value kinds (std and variance are the population ones, as numpy's default)",
  values: REDUCTION_KINDS,
});

export const SaliencyMethodEnum = builder.enumType('SaliencyMethod', {
  description:
    "FULLGRAD: |input·grad| and every site's |bias·output_grad|, each min-max normalised, resized and summed; " +
    'SIMPLE_FULLGRAD: |output_grad| in place of |bias·output_grad|; INPUT_X_GRADIENT: the input term alone; ' +
    "GRAD_CAM: relu(Σ_c α_c A_c) on layer4's output A (α_c: the mean gradient of channel c), upsampled; " +
    'INTEGRATED_GRADIENTS: |Σ_c (x − baseline)·∫∇f along the straight path| (steps and baseline are arguments). ' +
    'GRAD_CAM and INTEGRATED_GRADIENTS always run the debug graph (on the captured image for a capture)',
  values: SALIENCY_METHODS,
});

export const ColormapEnum = builder.enumType('Colormap', { values: COLORMAPS });

const IgBaselineEnum = builder.enumType('IntegratedGradientsBaseline', {
  description: `INTEGRATED_GRADIENTS' starting image: BLACK (RGB 0), ZERO (the normalised zero: the training mean colour), BLUR (the input under a Gaussian blur of σ = ${IG_BLUR_SIGMA} px), NOISE (uniform RGB noise, a fixed seed)`,
  values: IG_BASELINES,
});

/** a map with its rendering and background-check options */
export interface ExplanationView {
  map: ComputedSaliency;
  render: RenderOptions;
  background: BackgroundOptions;
  /** the sanity check's threshold */
  sanityThreshold: number;
}

/** a step's map, with the URLs of its images */
export interface SaliencyView extends ExplanationView {
  map: ComputedSaliency & { ref: StepRef };
  /** where the PNGs are served: /saliency/<captureId> or /steps/<endpoint>/<step> */
  urlBase: string;
  /** a query-string suffix beyond method and rendering (e.g. mode) */
  urlExtra: string;
}

const TensorInfoRef = builder.objectRef<TensorRecord>('TensorInfo').implement({
  description: 'A saved tensor without its values',
  fields: (t) => ({
    name: t.exposeString('name'),
    shape: t.exposeIntList('shape'),
    dtype: t.exposeString('dtype'),
    encoding: t.exposeString('encoding', {
      description: 'how the values are stored (f32, f32-deflate, f16-sparse-split, …)',
    }),
    storedBytes: t.exposeInt('bytes'),
  }),
});

const TensorValueRef = builder.objectRef<TensorValue>('TensorValue').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    step: t.exposeInt('step'),
    shape: t.exposeIntList('shape', {
      description: 'per-request tensors carry the batch dimension (1); constants do not',
    }),
    dtype: t.exposeString('dtype', { description: 'of the decoded values: float32' }),
    encoding: t.exposeString('encoding'),
    storedBytes: t.exposeInt('storedBytes'),
    size: t.int({ description: 'number of values', resolve: (v) => v.values.length }),
    data: t.string({
      description: 'base64 of the values as little-endian float32, row-major',
      resolve: (v) => littleEndianBase64(v.values),
    }),
  }),
});

interface ReductionView {
  name: string;
  step: number;
  kind: ReductionKind;
  abs: boolean;
  value: number;
}

const TensorReductionRef = builder.objectRef<ReductionView>('TensorReduction').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    step: t.exposeInt('step'),
    kind: t.field({ type: ReductionKindEnum, resolve: (r) => r.kind }),
    abs: t.exposeBoolean('abs'),
    value: t.float({
      nullable: true,
      description: 'null when not finite (NaN or ±Inf)',
      resolve: (r) => (Number.isFinite(r.value) ? r.value : null),
    }),
  }),
});

const DebugTensorRef = builder.objectRef<TrialTensor>('DebugTensor').implement({
  description: "A tensor name of a trial (smdebug's trial.tensor(name))",
  fields: (t) => ({
    name: t.exposeString('name'),
    steps: t.intList({
      description: `steps at which it was saved, ascending (the newest ${MAX_LISTED_STEPS.toLocaleString('en')})`,
      resolve: (x, _args, { services }) => services.trials.tensorSteps(x),
    }),
    value: t.field({
      type: TensorValueRef,
      errors: { types: [NotFoundError] },
      args: { step: t.arg.int({ required: true }) },
      resolve: (x, { step }, { services }) => services.trials.value(x, step),
    }),
    reduction: t.field({
      type: TensorReductionRef,
      errors: { types: [NotFoundError] },
      description: "smdebug's reduction_value",
      args: {
        step: t.arg.int({ required: true }),
        kind: t.arg({ type: ReductionKindEnum, required: true }),
        abs: t.arg.boolean({ defaultValue: false, description: 'reduce |v|' }),
      },
      resolve: async (x, { step, kind, abs }, { services }) => ({
        name: x.name,
        step,
        kind,
        abs: abs ?? false,
        value: await services.trials.reduction(x, step, kind, abs ?? false),
      }),
    }),
  }),
});

const CompletenessRef = builder.objectRef<Completeness & { model: string }>('Completeness').implement({
  description:
    "FullGrad's completeness: logit = Σ input·input_grad + Σ_sites Σ_c bias[c]·Σ_hw output_grad + fc.bias[class], for the explained class",
  fields: (t) => ({
    classId: t.exposeInt('classId', { description: "the explained class (the zero seed's: argmax of the logits)" }),
    label: t.string({
      nullable: true,
      resolve: (c, _args, { services }) => services.saliency.label(c.model, c.classId),
    }),
    logit: t.exposeFloat('logit'),
    explained: t.exposeFloat('explained', { description: 'the decomposition summed from the stored tensors' }),
    residual: t.exposeFloat('residual', { description: '|logit − explained| / |logit|' }),
  }),
});

const BackgroundRef = builder.objectRef<BackgroundSaliency>('BackgroundSaliency').implement({
  description:
    'Saliency outside a centred circle of interest, on the map min-max normalised to [0, 1]; flagged when the maximum reaches the threshold',
  fields: (t) => ({
    max: t.exposeFloat('max'),
    mean: t.exposeFloat('mean'),
    flagged: t.exposeBoolean('flagged'),
    message: t.exposeString('message', { nullable: true, description: 'set when flagged' }),
    radius: t.exposeFloat('radius', { description: "the circle's radius, a fraction of the map's size" }),
    threshold: t.exposeFloat('threshold'),
    pixels: t.exposeInt('pixels', { description: 'map pixels outside the circle' }),
  }),
});

const IgCompletenessRef = builder.objectRef<IgCompleteness>('IntegratedGradientsCompleteness').implement({
  description:
    "Integrated Gradients' completeness: Σ attributions ≈ f(x) − f(baseline) for the explained logit f, up to the path integral's discretisation",
  fields: (t) => ({
    steps: t.exposeInt('steps'),
    baseline: t.field({ type: IgBaselineEnum, resolve: (c) => c.baseline }),
    logit: t.exposeFloat('logit', { description: 'f(x)' }),
    baselineLogit: t.exposeFloat('baselineLogit', { description: 'f(baseline)' }),
    attributionSum: t.exposeFloat('attributionSum', { description: 'Σ attributions' }),
    residual: t.exposeFloat('residual', {
      description: '|Σ attributions − (f(x) − f(baseline))| / |f(x) − f(baseline)|',
    }),
    tolerance: t.exposeFloat('tolerance', { description: 'the stated tolerance of the residual' }),
    withinTolerance: t.exposeBoolean('withinTolerance', {
      description: 'residual ≤ tolerance; when false, raise steps',
    }),
  }),
});

const SanityCheckRef = builder.objectRef<SanityCheck>('SanityCheck').implement({
  description:
    "Does the map depend on the image? (Adebayo et al., 2018.) Spearman rank correlations of the map with the same method's map, for the same class, of a blank (uniform grey) and of a noise image; the map depends on its input when both stay below the threshold",
  fields: (t) => ({
    blankRankCorrelation: t.exposeFloat('blankRankCorrelation'),
    noiseRankCorrelation: t.exposeFloat('noiseRankCorrelation'),
    dependsOnInput: t.exposeBoolean('dependsOnInput', { description: 'both correlations below the threshold' }),
    threshold: t.exposeFloat('threshold'),
  }),
});

export const ExplanationRef = builder.interfaceRef<ExplanationView>('Explanation').implement({
  description: 'A saliency map of one class, its images and its checks',
  resolveType: (e) => (e.map.ref ? 'SaliencyMap' : 'ImageExplanation'),
  fields: (t) => ({
    method: t.field({ type: SaliencyMethodEnum, resolve: (s) => s.map.method }),
    model: t.string({ resolve: (s) => s.map.model }),
    classId: t.int({ nullable: true, description: 'the explained class', resolve: (s) => s.map.classId }),
    label: t.string({
      nullable: true,
      resolve: (s, _args, { services }) =>
        s.map.classId === null ? null : services.saliency.label(s.map.model, s.map.classId),
    }),
    width: t.int({ description: "the map's width (the model's input width)", resolve: (s) => s.map.width }),
    height: t.int({ resolve: (s) => s.map.height }),
    min: t.float({ resolve: (s) => s.map.min }),
    max: t.float({ resolve: (s) => s.map.max }),
    values: t.floatList({
      description: 'the map, row-major height × width, unnormalised (FULLGRAD sums one [0,1] map per term)',
      resolve: (s) => Array.from(s.map.values),
    }),
    colormap: t.field({ type: ColormapEnum, resolve: (s) => s.render.colormap }),
    opacity: t.float({ resolve: (s) => s.render.opacity }),
    size: t.int({ description: 'width and height of the PNGs', resolve: (s) => s.render.size }),
    heatmapPng: t.string({
      description: 'the colormapped map as a PNG data URL',
      resolve: async (s, _args, { services }) =>
        pngDataUrl(await services.saliency.renderCached(s.map, 'heatmap', s.render)),
    }),
    overlayPng: t.string({
      description: 'the heatmap blended over the input image, as a PNG data URL',
      resolve: async (s, _args, { services }) =>
        pngDataUrl(await services.saliency.renderCached(s.map, 'overlay', s.render)),
    }),
    completenessResidual: t.float({
      nullable: true,
      description:
        'the completeness residual |logit − explained| / |logit| of the explained class (null when a step lacks fc.bias, logits or a bias)',
      resolve: (s) => s.map.completeness?.residual ?? null,
    }),
    completeness: t.field({
      type: CompletenessRef,
      nullable: true,
      resolve: (s) => (s.map.completeness ? { ...s.map.completeness, model: s.map.model } : null),
    }),
    background: t.field({
      type: BackgroundRef,
      description: 'the background-saliency check (radius and threshold are arguments of the saliency field)',
      resolve: (s, _args, { services }) => services.saliency.background(s.map, s.background),
    }),
    integratedGradients: t.field({
      type: IgCompletenessRef,
      nullable: true,
      description: "INTEGRATED_GRADIENTS' steps, baseline and completeness (null for other methods)",
      resolve: (s) => s.map.integratedGradients,
    }),
    sanity: t.field({
      type: SanityCheckRef,
      nullable: true,
      description:
        "the map's sanity check, computed on demand (the blank and noise maps once per model, method, class and options; then cached); null when the map explains no known class",
      resolve: (s, _args, { services }) => services.saliency.sanity(s.map, s.sanityThreshold),
    }),
    computeMs: t.float({
      description: 'time the server took to read, decode and compute the map (when first computed: maps are cached)',
      resolve: (s) => s.map.computeMs,
    }),
  }),
});

export const SaliencyMapRef = builder.objectRef<SaliencyView>('SaliencyMap').implement({
  description:
    'A saliency map of a debugger step: from its stored tensors (no model run) for the class they explain, recomputed by the debug graph for another class',
  interfaces: [ExplanationRef],
  fields: (t) => ({
    endpoint: t.string({ resolve: (s) => s.map.ref.endpointName }),
    step: t.int({ resolve: (s) => s.map.ref.step }),
    captureId: t.id({ nullable: true, resolve: (s) => s.map.ref.captureId }),
    heatmapUrl: t.string({
      description: 'server-relative URL of the heatmap PNG',
      resolve: (s) => imageUrl(s, 'heatmap'),
    }),
    overlayUrl: t.string({
      description: 'server-relative URL of the overlay PNG',
      resolve: (s) => imageUrl(s, 'overlay'),
    }),
  }),
});

const ImageExplanationRef = builder.objectRef<ExplanationView>('ImageExplanation').implement({
  description:
    'A saliency map of an uploaded image (one debug-graph run; nothing is stored, so the images are data URLs only)',
  interfaces: [ExplanationRef],
  fields: () => ({}),
});

/** the arguments of every saliency field */
export const saliencyArgs = builder.args((t) => ({
  method: t.field({ type: SaliencyMethodEnum, defaultValue: 'FULLGRAD' }),
  colormap: t.field({ type: ColormapEnum, defaultValue: DEFAULT_RENDER.colormap }),
  opacity: t.float({ defaultValue: DEFAULT_RENDER.opacity, description: 'heatmap weight over the image, 0–1' }),
  size: t.int({
    defaultValue: DEFAULT_RENDER.size,
    description: `PNG width and height, ${MIN_RENDER_SIZE}–${MAX_RENDER_SIZE}`,
  }),
  backgroundRadius: t.float({
    defaultValue: DEFAULT_BACKGROUND_RADIUS,
    description: "the circle of interest's radius, a fraction of the size, in (0, 1]",
  }),
  backgroundThreshold: t.float({ defaultValue: DEFAULT_BACKGROUND_THRESHOLD, description: '0–1' }),
  classId: t.int({
    description:
      "the class to explain (default: the one the step's tensors explain, its predicted class); another is recomputed with the debug graph from the captured image",
  }),
  steps: t.int({
    defaultValue: DEFAULT_IG_STEPS,
    description: `INTEGRATED_GRADIENTS: the path's steps, 1–${MAX_IG_STEPS} (steps + 1 gradient evaluations)`,
  }),
  baseline: t.field({ type: IgBaselineEnum, defaultValue: 'BLACK', description: 'INTEGRATED_GRADIENTS' }),
  sanityThreshold: t.float({
    defaultValue: DEFAULT_SANITY_THRESHOLD,
    description:
      'the sanity check says the map depends on its input when both rank correlations are below this (−1 to 1)',
  }),
}));

export interface SaliencyFieldArgs {
  method?: SaliencyMethod | null;
  colormap?: Colormap | null;
  opacity?: number | null;
  size?: number | null;
  backgroundRadius?: number | null;
  backgroundThreshold?: number | null;
  classId?: number | null;
  steps?: number | null;
  baseline?: IgOptions['baseline'] | null;
  sanityThreshold?: number | null;
}

/**
 * The one result of every field that resolves a saliency map: NotFoundError when the capture, its
 * debugger step or the tensors the method needs do not exist; ValidationError for an argument.
 */
const SaliencyResultRef = builder.errorUnion('SaliencyResult', {
  types: [SaliencyMapRef, NotFoundError, ValidationError],
  resolveType: () => 'SaliencyMap',
});

async function saliencyView(
  services: Services,
  ref: StepRef,
  args: SaliencyFieldArgs,
  urlBase: string,
  urlExtra = '',
): Promise<SaliencyView> {
  const method = parseMethod(args.method);
  const options = viewOptions(args);
  const ig = parseIg(args);
  const map = await services.saliency.compute(ref, method, { classId: args.classId, ig });
  // a chosen class is part of the images' URLs; the default keeps them as they were
  const classExtra = args.classId === null || args.classId === undefined ? '' : `&classId=${args.classId}`;
  return { map: { ...map, ref }, ...options, urlBase, urlExtra: urlExtra + classExtra };
}

/** a view's render and background options from the saliency arguments */
export function viewOptions(args: SaliencyFieldArgs): Omit<ExplanationView, 'map'> {
  return {
    render: parseRender(args),
    background: validateBackground({
      radius: args.backgroundRadius ?? undefined,
      threshold: args.backgroundThreshold ?? undefined,
    }),
    sanityThreshold: validateSanityThreshold(args.sanityThreshold ?? DEFAULT_SANITY_THRESHOLD),
  };
}

function imageUrl(s: SaliencyView, kind: 'heatmap' | 'overlay'): string {
  return `${s.urlBase}/${kind}.png?${imageQuery(s.map.method, s.render, igOf(s.map))}${s.urlExtra}`;
}

const stepUrl = (ref: StepRef) => `/steps/${encodeURIComponent(ref.endpointName)}/${ref.step}`;
const modeSuffix = (ref: StepRef) => (ref.mode === 'PREDICT' ? '' : `&mode=${ref.mode}`);

const DebugStepRef = builder.objectRef<StepRef>('DebugStep').implement({
  description: 'A debugger-hook step: one request whose tensors were saved',
  fields: (t) => ({
    step: t.exposeInt('step'),
    mode: t.field({ type: ModeKeysEnum, resolve: (s) => s.mode }),
    endpoint: t.exposeString('endpointName'),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    captureId: t.id({
      nullable: true,
      description: 'the capture recorded with it (null when the request was not captured)',
      resolve: (s) => s.captureId,
    }),
    capture: t.field({
      type: CaptureRef,
      nullable: true,
      resolve: (s, _args, { loaders }) => (s.captureId ? loaders.capture.load(s.captureId) : null),
    }),
    tensorNames: t.stringList({
      resolve: async (s, _args, { loaders }) => (await loaders.tensorsOfStep.load(s.id)).map((x) => x.name),
    }),
    tensors: t.field({ type: [TensorInfoRef], resolve: (s, _args, { loaders }) => loaders.tensorsOfStep.load(s.id) }),
    storedBytes: t.int({
      description: "Σ of the step's stored tensor bytes",
      resolve: async (s, _args, { loaders }) =>
        (await loaders.tensorsOfStep.load(s.id)).reduce((sum, x) => sum + x.bytes, 0),
    }),
    completeness: t.field({
      type: CompletenessRef,
      description: 'NotFoundError when the step lacks a tensor the check needs',
      errors: { types: [NotFoundError] },
      resolve: async (s, _args, { services }) => ({ ...(await services.saliency.completeness(s)), model: s.model }),
    }),
    saliency: t.field({
      type: SaliencyResultRef,
      args: saliencyArgs,
      resolve: (s, args, { services }) => saliencyView(services, s, args, stepUrl(s), modeSuffix(s)),
    }),
  }),
});

const TrialRef = builder.objectRef<Trial>('Trial').implement({
  description: "smdebug's Trial over an endpoint's saved debugger steps",
  fields: (t) => ({
    endpoint: t.string({ resolve: (x) => x.endpoint.name }),
    steps: t.intList({
      description: `saved step numbers, ascending (the newest ${MAX_LISTED_STEPS.toLocaleString('en')})`,
      args: { mode: t.arg({ type: ModeKeysEnum, defaultValue: 'PREDICT' }) },
      resolve: (x, { mode }, { services }) => services.trials.steps(x, mode ?? 'PREDICT'),
    }),
    tensorNames: t.field({
      type: ['String'],
      errors: {
        types: [NotFoundError, ValidationError],
        result: { name: 'TensorNameList' },
        dataField: { name: 'names' },
      },
      description:
        'names saved at `step` (or at any step), filtered by regex (re.match: from the start of the name) and collection',
      args: {
        step: t.arg.int(),
        mode: t.arg({ type: ModeKeysEnum, defaultValue: 'PREDICT' }),
        regex: t.arg.string(),
        collection: t.arg.string({ description: 'e.g. fullgrad, biases, gradients, outputs, all' }),
      },
      resolve: (x, args, { services }) =>
        services.trials.tensorNames(x, {
          step: args.step,
          mode: args.mode ?? 'PREDICT',
          regex: args.regex,
          collection: args.collection,
        }),
    }),
    tensor: t.field({
      type: DebugTensorRef,
      errors: { types: [NotFoundError] },
      args: { name: t.arg.string({ required: true }), mode: t.arg({ type: ModeKeysEnum, defaultValue: 'PREDICT' }) },
      resolve: (x, { name, mode }, { services }) => services.trials.tensor(x, name, mode ?? 'PREDICT'),
    }),
    step: t.field({
      type: DebugStepRef,
      errors: { types: [NotFoundError] },
      args: { step: t.arg.int({ required: true }), mode: t.arg({ type: ModeKeysEnum, defaultValue: 'PREDICT' }) },
      resolve: (x, { step, mode }, { services }) => services.trials.step(x, step, mode ?? 'PREDICT'),
    }),
  }),
});

builder.queryFields((t) => ({
  trial: t.field({
    type: TrialRef,
    errors: { types: [NotFoundError] },
    description: "The debugger's saved steps of an endpoint (smdebug's create_trial)",
    args: { endpoint: t.arg.string({ required: true }) },
    resolve: (_root, { endpoint }, { services }) => services.trials.trial(endpoint),
  }),
  saliency: t.field({
    type: SaliencyResultRef,
    description: 'The saliency map of a capture, from the tensors its debugger step saved',
    args: { captureId: t.arg.id({ required: true }), ...saliencyArgs },
    resolve: async (_root, args, { services }) => {
      const captureId = String(args.captureId);
      const ref = await services.saliency.stepOfCapture(captureId);
      return saliencyView(services, ref, args, `/saliency/${encodeURIComponent(captureId)}`);
    },
  }),
}));

builder.queryFields((t) => ({
  explain: t.field({
    type: ImageExplanationRef,
    description:
      "A saliency map of an uploaded image for a class (default: its predicted class), on an endpoint's model or a model by name; one debug-graph run, nothing stored",
    errors: { types: [NotFoundError, ValidationError, InvalidImageError] },
    args: {
      image: t.arg({ type: ImageInput, required: true }),
      endpoint: t.arg.string(),
      model: t.arg.string(),
      ...saliencyArgs,
    },
    resolve: async (_root, args, { services }) => {
      const method = parseMethod(args.method);
      const options = viewOptions(args);
      const ig = parseIg(args);
      const model = await modelOf(services.endpoints, args);
      const { bytes } = await readImageInput(args.image);
      return { map: await services.saliency.explainImage(bytes, model, method, args.classId, ig), ...options };
    },
  }),
}));

builder.objectFields(CaptureRef, (t) => ({
  debugStep: t.field({
    type: DebugStepRef,
    nullable: true,
    description: 'the debugger step saved with this request (null when the hook did not save it)',
    resolve: async (c, _args, { services, loaders }) => {
      const step = await loaders.debugStepOfCapture.load(c.id);
      return step && services.trials.ref({ name: c.endpointName, model: c.model }, step);
    },
  }),
  saliency: t.field({
    type: SaliencyResultRef,
    description:
      "a saliency map from the capture's debugger step (NotFoundError when it was recorded without the hook)",
    args: saliencyArgs,
    resolve: async (c, args, { services }) =>
      saliencyView(
        services,
        await services.saliency.stepOfCapture(c.id),
        args,
        `/saliency/${encodeURIComponent(c.id)}`,
      ),
  }),
}));

/** the values as little-endian float32 bytes, base64 */
function littleEndianBase64(values: Float32Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes.toString('base64');
  const copy = Buffer.from(bytes);
  copy.swap32();
  return copy.toString('base64');
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
