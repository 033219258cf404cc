/**
 * Saliency on demand, from a step's stored tensors only (no model run): the map of a method, the
 * completeness check, and the heatmap / overlay PNGs. Maps are cached by step and method, PNGs by step,
 * method and rendering options (LRUs in memory, bounded in entries and bytes; steps never change once
 * written). Opacity is rounded to hundredths, in the image and in its key, and a heatmap's key leaves it
 * out, so that varying it cannot make every request a new entry; sizes are capped at 1024 pixels, and a
 * stored capture is decoded under the same pixel limit as a request.
 */
import type { CaptureStore } from '../capture/store.ts';
import { messageOf, NotFoundError, ValidationError } from '../errors.ts';
import { type BackgroundOptions, type BackgroundSaliency, backgroundSaliency } from '../explain/background.ts';
import { COLORMAPS } from '../explain/colormap.ts';
import {
  argmax,
  type Completeness,
  completenessFromTerms,
  completeness as completenessOf,
  isModelRunMethod,
  mapRange,
  methodNeeds,
  SALIENCY_METHODS,
  type SaliencyMapData,
  type SaliencyMethod,
  type SiteGradient,
  saliencyMap,
} from '../explain/fullgrad.ts';
import {
  DEFAULT_IG,
  DEFAULT_IG_STEPS,
  IG_BASELINES,
  type IgCompleteness,
  type IgOptions,
  MAX_IG_STEPS,
} from '../explain/integrated-gradients.ts';
import {
  type BaseImage,
  denormalise,
  heatmapPng,
  overlayPng,
  type RenderOptions,
  type RgbImage,
} from '../explain/render.ts';
import {
  correlationsOf,
  DEFAULT_SANITY_THRESHOLD,
  type RankCorrelations,
  type SanityCheck,
  sanityImages,
  withThreshold,
} from '../explain/sanity.ts';
import { isOneOf } from '../guards.ts';
import { prepareImage, writeNormalised } from '../inference/preprocess.ts';
import { specOf } from '../inference/service.ts';
import type { ModelCatalog } from '../models/catalog.ts';
import type { ModelManifest } from '../models/manifest.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import { inflateSparse, isSparseEncoding, sparseHalvesSummary } from './encoding.ts';
import { explainClass } from './explain-class.ts';
import { LruCache } from './lru.ts';
import { decodeStored, type StoredTensor, type TensorRecord, type TensorStore } from './store.ts';
import { type TensorCatalog, tensorCatalog } from './tensor-names.ts';
import { ENABLE_HOOK_HINT, type StepRef } from './trial.ts';

export { SALIENCY_METHODS, type SaliencyMethod } from '../explain/fullgrad.ts';

export const DEFAULT_RENDER: RenderOptions = { colormap: 'JET', opacity: 0.5, size: 256 };
export const MAX_RENDER_SIZE = 1024;
export const MIN_RENDER_SIZE = 16;
/** capture bytes larger than this are not kept with a cached map (the overlay then uses the input tensor) */
const MAX_KEPT_INPUT_BYTES = 4 * 1024 * 1024;

export interface ComputedSaliency {
  /** the step explained; null for an uploaded image (`explain`) */
  ref: StepRef | null;
  model: string;
  method: SaliencyMethod;
  width: number;
  height: number;
  values: Float32Array;
  min: number;
  max: number;
  /**
   * the explained class: the one asked for, else argmax of the stored logits (the zero seed's class),
   * else the capture's prediction
   */
  classId: number | null;
  /**
   * null when the step lacks tensors the check needs (fc.bias, logits, every bias), and for GRAD_CAM;
   * INTEGRATED_GRADIENTS: logit = f(x′) + Σ attr
   */
  completeness: Completeness | null;
  /** INTEGRATED_GRADIENTS: its options and completeness (null for other methods) */
  integratedGradients: IgCompleteness | null;
  /** the stored input tensor, de-normalised */
  input: RgbImage;
  /** the capture's request bytes, when captured */
  captureInput: Uint8Array | null;
  /** time to read, decode and compute, ms */
  computeMs: number;
}

export interface SaliencyDeps {
  store: TensorStore;
  /** the captures whose steps are explained: their endpoint and request bytes */
  captures: Pick<CaptureStore, 'endpointOf' | 'input'>;
  models: Pick<ModelCatalog, 'get' | 'label'>;
  /** runs the debug graph for a class a step did not store, and for uploaded images */
  runtimes: Pick<ModelRegistry, 'get'>;
  /** a stored capture larger than this (width × height) is not decoded for an overlay (MAX_IMAGE_PIXELS) */
  maxInputPixels?: number;
}

export type ImageKind = 'heatmap' | 'overlay';

export class SaliencyService {
  readonly maps = new LruCache<ComputedSaliency>(
    256,
    64 * 1024 * 1024,
    (m) => m.values.byteLength + m.input.rgb.byteLength + (m.captureInput?.byteLength ?? 0),
  );
  readonly pngs = new LruCache<Buffer>(1024, 64 * 1024 * 1024, (b) => b.byteLength);
  /** the sanity check's blank and noise maps, per model, method, class and IG options (they do not depend on the input) */
  readonly sanityMaps = new LruCache<{ blank: Float32Array; noise: Float32Array }>(
    256,
    32 * 1024 * 1024,
    (m) => m.blank.byteLength + m.noise.byteLength,
  );
  /** the rank correlations of a step's map (the threshold applies on top) */
  readonly sanityChecks = new LruCache<RankCorrelations>(4096, 1024 * 1024, () => 64);
  readonly #catalogs = new Map<string, { manifest: ModelManifest; catalog: TensorCatalog }>();

  constructor(private readonly deps: SaliencyDeps) {}

  /** a class's name (ModelCatalog.label) */
  label(model: string, classId: number): string {
    return this.deps.models.label(model, classId);
  }

  /** the step of a capture; NotFoundError for an unknown capture or one recorded without the hook */
  async stepOfCapture(captureId: string): Promise<StepRef> {
    const [endpoint, step] = await Promise.all([
      this.deps.captures.endpointOf(captureId),
      this.deps.store.stepOfCapture(captureId),
    ]);
    if (!endpoint) throw new NotFoundError('Capture', captureId);
    if (!step) {
      throw new NotFoundError(
        'DebugStep',
        captureId,
        `Capture '${captureId}' has no debugger step: the endpoint's debugger hook was off (or did not save that request, see saveInterval) when it was recorded. ` +
          `To get saliency maps for new requests, ${ENABLE_HOOK_HINT}.`,
      );
    }
    return { ...step, endpointName: endpoint.name, model: endpoint.model };
  }

  /**
   * The map of a step (cached by step and method). With `classId`, of that class: the stored tensors'
   * map when they explain it, else recomputed by the debug graph from the captured image (or the step's
   * stored input when the capture kept no image), cached by step, method and class.
   */
  async compute(ref: StepRef, method: SaliencyMethod, options: ComputeOptions = {}): Promise<ComputedSaliency> {
    if (isModelRunMethod(method)) {
      const ig = method === 'INTEGRATED_GRADIENTS' ? (options.ig ?? DEFAULT_IG) : null;
      const run = () => this.#computeByModel(ref, method, options.classId, ig);
      if (options.cache === false) return run();
      return this.maps.getOrCompute(mapKey(ref.id, method, options.classId, ig), run);
    }
    const stored =
      options.cache === false
        ? await this.#compute(ref, method)
        : await this.maps.getOrCompute(`${ref.id}|${method}`, () => this.#compute(ref, method));
    const { classId } = options;
    if (classId === null || classId === undefined || classId === stored.classId) return stored;
    const recompute = () => this.#recompute(ref, stored, method, classId);
    if (options.cache === false) return recompute();
    return this.maps.getOrCompute(`${ref.id}|${method}|${classId}`, recompute);
  }

  /** An uploaded image explained for a class (its predicted class by default): one debug-graph run, not cached. */
  async explainImage(
    bytes: Uint8Array,
    model: string,
    method: SaliencyMethod,
    classId: number | null | undefined,
    ig: IgOptions = DEFAULT_IG,
  ): Promise<ComputedSaliency> {
    const started = performance.now();
    const runtime = await this.deps.runtimes.get(model);
    const spec = specOf(runtime);
    checkClass(classId, runtime.classCount);
    const prepared = await prepareImage(bytes, spec, { maxPixels: this.deps.maxInputPixels ?? 25_000_000 });
    const input = new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]);
    writeNormalised(prepared.resized, spec, input);
    const explained = classId ?? argmax(await runtime.runServing(input, 1));
    return this.#explained(runtime, null, input, method, explained, bytes, started, ig);
  }

  /** GRAD_CAM and INTEGRATED_GRADIENTS of a step: the debug graph on its captured image (or stored input) */
  async #computeByModel(
    ref: StepRef,
    method: SaliencyMethod,
    classId: number | null | undefined,
    ig: IgOptions | null,
  ): Promise<ComputedSaliency> {
    const started = performance.now();
    const runtime = await this.deps.runtimes.get(ref.model);
    checkClass(classId, runtime.classCount);
    const capture = ref.captureId ? await this.deps.captures.input(ref.captureId) : null;
    const captureInput = capture?.inputData ?? null;
    const input = await this.#stepInput(ref, runtime, captureInput, `${method}`);
    const explained = classId ?? capture?.predictedClass ?? argmax(await runtime.runServing(input, 1));
    return this.#explained(runtime, ref, input, method, explained, captureInput, started, ig ?? undefined);
  }

  /** a step's normalised input: its capture's bytes preprocessed as predict did, else the stored input tensor */
  async #stepInput(
    ref: StepRef,
    runtime: ModelRuntime,
    captureInput: Uint8Array | null,
    what: string,
  ): Promise<Float32Array> {
    const spec = specOf(runtime);
    const input = new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]);
    if (captureInput) {
      // the request's own bytes, preprocessed as predict did: exact, where a stored f16 input is not
      const prepared = await prepareImage(captureInput, spec, { maxPixels: this.deps.maxInputPixels ?? 25_000_000 });
      writeNormalised(prepared.resized, spec, input);
    } else {
      const rows = await this.deps.store.readRows(ref.id, ['input']);
      if (!rows[0]) throw missingTensors(ref, what, ['input']);
      input.set(decodeStored(rows[0]));
    }
    return input;
  }

  async #recompute(
    ref: StepRef,
    stored: ComputedSaliency,
    method: SaliencyMethod,
    classId: number,
  ): Promise<ComputedSaliency> {
    const started = performance.now();
    const runtime = await this.deps.runtimes.get(ref.model);
    checkClass(classId, runtime.classCount);
    const input = await this.#stepInput(ref, runtime, stored.captureInput, `explaining class ${classId}`);
    return this.#explained(runtime, ref, input, method, classId, stored.captureInput, started);
  }

  async #explained(
    runtime: ModelRuntime,
    ref: StepRef | null,
    input: Float32Array,
    method: SaliencyMethod,
    classId: number,
    captureInput: Uint8Array | null,
    started: number,
    ig?: IgOptions,
  ): Promise<ComputedSaliency> {
    const { manifest } = runtime.entry;
    const { map, completeness, integratedGradients } = await explainClass(runtime, input, classId, method, { ig });
    return computed(map, {
      ref,
      model: runtime.entry.name,
      method,
      classId,
      completeness,
      integratedGradients,
      input: denormalise(input, [3, manifest.inputSize[0], manifest.inputSize[1]], manifest.mean, manifest.std),
      captureInput: captureInput && captureInput.byteLength <= MAX_KEPT_INPUT_BYTES ? captureInput : null,
      computeMs: performance.now() - started,
    });
  }

  /** heatmap or overlay PNG bytes (cached by step, method and options) */
  async png(
    ref: StepRef,
    method: SaliencyMethod,
    kind: ImageKind,
    render: RenderOptions,
    options: ComputeOptions = {},
  ): Promise<Buffer> {
    const make = async () => {
      const map = await this.compute(ref, method, options);
      return this.render(map, kind, render);
    };
    if (options.cache === false) return make();
    const ig = method === 'INTEGRATED_GRADIENTS' ? (options.ig ?? DEFAULT_IG) : null;
    return this.pngs.getOrCompute(pngKey(ref.id, method, kind, render, options.classId, ig), make);
  }

  /** a computed map's PNG (cached, for a step's map) */
  renderCached(map: ComputedSaliency, kind: ImageKind, render: RenderOptions): Promise<Buffer> {
    if (!map.ref) return this.render(map, kind, render);
    const key = pngKey(map.ref.id, map.method, kind, render, map.classId, igOf(map));
    return this.pngs.getOrCompute(key, () => this.render(map, kind, render));
  }

  render(map: ComputedSaliency, kind: ImageKind, render: RenderOptions): Promise<Buffer> {
    if (kind === 'heatmap') return heatmapPng(map, render);
    const tensorImage: BaseImage = { kind: 'rgb', image: map.input };
    const base: BaseImage = map.captureInput
      ? { kind: 'encoded', bytes: map.captureInput, maxPixels: this.deps.maxInputPixels }
      : tensorImage;
    return overlayPng(map, base, render, map.captureInput ? tensorImage : undefined);
  }

  background(map: ComputedSaliency, options: BackgroundOptions = {}): BackgroundSaliency {
    return backgroundSaliency(map.values, map.width, map.height, validateBackground(options));
  }

  /**
   * The sanity check of a map (explain/sanity.ts): its rank correlations with the same method's maps of
   * a blank and of a noise image, for the same model, class and IG options. Those two maps are computed
   * once per (model, method, class, options) and cached, as are a step map's correlations: a check costs
   * two rankings of the map's pixels (O(n log n)) once the references exist. Null when the map explains
   * no known class.
   */
  async sanity(map: ComputedSaliency, threshold = DEFAULT_SANITY_THRESHOLD): Promise<SanityCheck | null> {
    validateSanityThreshold(threshold);
    const { classId } = map;
    if (classId === null) return null;
    const ig = igOf(map);
    const check = async () =>
      correlationsOf(map.values, await this.#sanityReferences(map.model, map.method, classId, ig));
    const result = map.ref
      ? await this.sanityChecks.getOrCompute(mapKey(map.ref.id, map.method, classId, ig), check)
      : await check();
    return withThreshold(result, threshold);
  }

  #sanityReferences(
    model: string,
    method: SaliencyMethod,
    classId: number,
    ig: IgOptions | null,
  ): Promise<{ blank: Float32Array; noise: Float32Array }> {
    return this.sanityMaps.getOrCompute(mapKey(model, method, classId, ig), async () => {
      const runtime = await this.deps.runtimes.get(model);
      const { manifest } = runtime.entry;
      const images = sanityImages([3, manifest.inputSize[0], manifest.inputSize[1]], manifest);
      const options = { ig: ig ?? undefined };
      const blank = await explainClass(runtime, images.blank, classId, method, options);
      const noise = await explainClass(runtime, images.noise, classId, method, options);
      return { blank: blank.map.values, noise: noise.map.values };
    });
  }

  /** the completeness check of a step; NotFoundError naming the tensors it lacks */
  async completeness(ref: StepRef): Promise<Completeness> {
    const { catalog } = this.#model(ref.model);
    const names = completenessNames(catalog);
    const rows = new Map((await this.deps.store.readRows(ref.id, names)).map((r) => [r.name, r]));
    const missing = names.filter((n) => !rows.has(n));
    if (missing.length) throw missingTensors(ref, 'the completeness check', missing);
    const dense = (name: string) => decodeStored(rows.get(name)!);
    return completenessOf({
      input: dense('input'),
      inputGrad: dense('input_grad'),
      sites: catalog.sites.map((site) =>
        siteGradient(site.name, rows.get(`${site.name}.output_grad`)!, dense(`${site.name}.bias`)),
      ),
      fcBias: dense('fc.bias'),
      logits: dense('logits'),
    });
  }

  async #compute(ref: StepRef, method: SaliencyMethod): Promise<ComputedSaliency> {
    const started = performance.now();
    const { manifest, catalog } = this.#model(ref.model);
    const needs = methodNeeds(method);
    const required = ['input', 'input_grad'];
    if (needs.sites) for (const site of catalog.sites) required.push(`${site.name}.output_grad`);
    if (needs.biases) for (const site of catalog.sites) required.push(`${site.name}.bias`);
    const checkNames = completenessNames(catalog);
    const optional = checkNames.filter((n) => !required.includes(n));
    const [rows, capture] = await Promise.all([
      this.deps.store.readRows(ref.id, [...required, ...optional]),
      ref.captureId ? this.deps.captures.input(ref.captureId) : null,
    ]);
    const tensors = new Map(rows.map((r) => [r.name, r]));
    const missing = required.filter((n) => !tensors.has(n));
    if (missing.length) throw missingTensors(ref, method, missing);
    const withCheck = checkNames.every((n) => tensors.has(n));

    const dense = (name: string) => decodeStored(tensors.get(name)!);
    const input = dense('input');
    const inputShape = perImage(tensors.get('input')!);
    const inputGrad = dense('input_grad');
    const bias = (name: string) => (tensors.has(`${name}.bias`) ? dense(`${name}.bias`) : undefined);
    const sites: SiteGradient[] =
      needs.sites || withCheck
        ? catalog.sites.map((site) =>
            siteGradient(site.name, tensors.get(`${site.name}.output_grad`)!, bias(site.name)),
          )
        : [];
    let map: SaliencyMapData;
    let check: Completeness | null = null;
    try {
      map = saliencyMap(method, { input, inputGrad, inputShape, sites: needs.sites ? sites : [] });
      if (withCheck) {
        const fcBias = dense('fc.bias');
        const logits = dense('logits');
        // the sums came with the map when it read every site with its bias; else one more pass
        check = needs.sites
          ? completenessFromTerms(map.terms, fcBias, logits)
          : completenessOf({ input, inputGrad, sites, fcBias, logits });
      }
    } catch (error) {
      throw new ValidationError(
        'step',
        `Step ${ref.step} of endpoint '${ref.endpointName}' holds tensors that do not fit model ${ref.model}: ${messageOf(error)}`,
      );
    }
    const inputBytes = capture?.inputData ?? null;
    return computed(map, {
      ref,
      model: ref.model,
      method,
      classId: check?.classId ?? (tensors.has('logits') ? argmax(dense('logits')) : (capture?.predictedClass ?? null)),
      completeness: check,
      integratedGradients: null,
      input: denormalise(input, inputShape, manifest.mean, manifest.std),
      captureInput: inputBytes && inputBytes.byteLength <= MAX_KEPT_INPUT_BYTES ? inputBytes : null,
      computeMs: performance.now() - started,
    });
  }

  #model(model: string): { manifest: ModelManifest; catalog: TensorCatalog } {
    const entry = this.deps.models.get(model);
    if (!entry)
      throw new NotFoundError('Model', model, `Model '${model}' is not available, so its tensor sites are unknown`);
    const key = `${entry.name}@${entry.manifest.version}`;
    let found = this.#catalogs.get(key);
    if (!found) this.#catalogs.set(key, (found = { manifest: entry.manifest, catalog: tensorCatalog(entry.manifest) }));
    return found;
  }
}

/** a map's values and range, with what was explained */
function computed(
  map: SaliencyMapData,
  fields: Omit<ComputedSaliency, 'width' | 'height' | 'values' | 'min' | 'max'>,
): ComputedSaliency {
  const range = mapRange(map.values);
  return { ...fields, width: map.width, height: map.height, values: map.values, min: range.min, max: range.max };
}

export interface ComputeOptions {
  cache?: boolean;
  classId?: number | null | undefined;
  /** INTEGRATED_GRADIENTS' steps and baseline (ignored by other methods) */
  ig?: IgOptions | undefined;
}

/** a map's IG options (null for other methods) */
export function igOf(map: ComputedSaliency): IgOptions | null {
  const ig = map.integratedGradients;
  return ig ? { steps: ig.steps, baseline: ig.baseline } : null;
}

/** the cache key of a map: step (or model), method, class, and IG's options */
function mapKey(id: string, method: SaliencyMethod, classId: number | null | undefined, ig: IgOptions | null): string {
  return `${id}|${method}|${classId ?? ''}|${ig ? `${ig.baseline}:${ig.steps}` : ''}`;
}

/** a class from 0 to classes − 1, when one is given */
function checkClass(classId: number | null | undefined, classes: number): void {
  if (classId === null || classId === undefined) return;
  if (!Number.isInteger(classId) || classId < 0 || classId >= classes)
    throw new ValidationError('classId', `classId must be a class from 0 to ${classes - 1}, got ${classId}`);
}

/** a heatmap does not depend on opacity; opacity is already rounded (parseRender) */
function pngKey(
  stepId: string,
  method: SaliencyMethod,
  kind: ImageKind,
  render: RenderOptions,
  classId: number | null | undefined,
  ig: IgOptions | null,
): string {
  const opacity = kind === 'overlay' ? render.opacity : '';
  return `${mapKey(stepId, method, classId, ig)}|${kind}|${render.colormap}|${opacity}|${render.size}`;
}

function completenessNames(catalog: TensorCatalog): string[] {
  return [
    'input',
    'input_grad',
    ...catalog.sites.flatMap((s) => [`${s.name}.output_grad`, `${s.name}.bias`]),
    'fc.bias',
    'logits',
  ];
}

/**
 * A site's output_grad for the map: sparse-encoded gradients are summarised straight from their stored
 * bytes (only the non-zero values are visited, no float tensor is built); others are decoded.
 */
export function siteGradient(name: string, stored: StoredTensor, bias: Float32Array | undefined): SiteGradient {
  const shape = perImage(stored);
  if (isSparseEncoding(stored.encoding)) {
    let raw: Uint8Array | undefined;
    const count = shape[0] * shape[1] * shape[2];
    return {
      name,
      shape,
      bias,
      summarize: (weights) =>
        sparseHalvesSummary((raw ??= inflateSparse(stored.data, stored.encoding, count)), shape, weights),
    };
  }
  return { name, shape, bias, grad: decodeStored(stored) };
}

/** [1, C, H, W] (or [C, H, W]) → [C, H, W] */
function perImage(tensor: TensorRecord): [number, number, number] {
  const dims = tensor.shape.length === 4 && tensor.shape[0] === 1 ? tensor.shape.slice(1) : tensor.shape;
  if (dims.length !== 3)
    throw new ValidationError(
      'step',
      `tensor ${tensor.name} has shape [${tensor.shape.join(',')}], expected [1,C,H,W]`,
    );
  return dims as [number, number, number];
}

function missingTensors(ref: StepRef, what: string, missing: string[]): NotFoundError {
  const grads = missing.filter((n) => n.endsWith('.output_grad'));
  const biases = missing.filter((n) => n.endsWith('.bias') && n !== 'fc.bias');
  const single = missing.filter((n) => !grads.includes(n) && !biases.includes(n));
  const group = (names: string[], what: string) =>
    names.length === 0
      ? []
      : names.length <= 3
        ? names
        : [`${names.length} ${what} (${names[0]}, ${names[1]}, …, ${names.at(-1)})`];
  const parts = [...single, ...group(grads, 'site gradients'), ...group(biases, 'site biases')];
  const hints: string[] = [];
  if (single.includes('input') || single.includes('input_grad')) hints.push('".*image" (the input and its gradient)');
  if (grads.length) hints.push('".*bn|.*downsample" (the sites\' output_grad)');
  if (biases.length || single.includes('fc.bias')) hints.push('".*bias"');
  const logits = single.includes('logits')
    ? ' (the hook saves `logits` with every step now; this step predates that)'
    : '';
  return new NotFoundError(
    'Tensor',
    missing[0]!,
    `Step ${ref.step} of endpoint '${ref.endpointName}' lacks tensors ${what} needs: ${parts.join(', ')}${logits}. ` +
      `The 'fullgrad' collection saves all of them (debugHook: { collections: ["fullgrad"] }); with includeRegex, match ${hints.join(', ') || 'them'}, ` +
      `e.g. the write-up's ".*bn|.*bias|.*downsample|.*ResNet_input|.*image".`,
  );
}

export interface SaliencyArgs {
  method?: string | null;
  colormap?: string | null;
  opacity?: number | null;
  size?: number | null;
}

export function parseMethod(value: string | null | undefined): SaliencyMethod {
  const method = value ?? 'FULLGRAD';
  if (!isOneOf(SALIENCY_METHODS, method)) {
    throw new ValidationError('method', `Unknown saliency method '${method}': use ${SALIENCY_METHODS.join(', ')}`);
  }
  return method;
}

/** rendering options with defaults; ValidationError for values out of range */
export function parseRender(args: SaliencyArgs): RenderOptions {
  const colormap = args.colormap ?? DEFAULT_RENDER.colormap;
  if (!isOneOf(COLORMAPS, colormap)) {
    throw new ValidationError('colormap', `Unknown colormap '${colormap}': use ${COLORMAPS.join(', ')}`);
  }
  const requested = args.opacity ?? DEFAULT_RENDER.opacity;
  if (!Number.isFinite(requested) || requested < 0 || requested > 1)
    throw new ValidationError('opacity', `opacity must be from 0 to 1, got ${requested}`);
  // hundredths: finer steps are invisible, and each distinct value would be a cache entry of its own
  const opacity = Math.round(requested * 100) / 100;
  const size = args.size ?? DEFAULT_RENDER.size;
  if (!Number.isInteger(size) || size < MIN_RENDER_SIZE || size > MAX_RENDER_SIZE) {
    throw new ValidationError(
      'size',
      `size must be an integer from ${MIN_RENDER_SIZE} to ${MAX_RENDER_SIZE}, got ${size}`,
    );
  }
  return { colormap, opacity, size };
}

export function validateBackground(options: BackgroundOptions): BackgroundOptions {
  const { radius, threshold } = options;
  if (radius !== undefined && (!Number.isFinite(radius) || radius <= 0 || radius > 1)) {
    throw new ValidationError('radius', `radius must be in (0, 1] (a fraction of the map's size), got ${radius}`);
  }
  if (threshold !== undefined && (!Number.isFinite(threshold) || threshold < 0 || threshold > 1)) {
    throw new ValidationError('threshold', `threshold must be from 0 to 1, got ${threshold}`);
  }
  return options;
}

/** IG's options with defaults; ValidationError for steps out of range or an unknown baseline */
export function parseIg(args: { steps?: number | null; baseline?: string | null }): IgOptions {
  const steps = args.steps ?? DEFAULT_IG_STEPS;
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_IG_STEPS)
    throw new ValidationError('steps', `steps must be an integer from 1 to ${MAX_IG_STEPS}, got ${steps}`);
  const baseline = args.baseline ?? DEFAULT_IG.baseline;
  if (!isOneOf(IG_BASELINES, baseline))
    throw new ValidationError(
      'baseline',
      `Unknown baseline '${baseline.slice(0, 40)}': use ${IG_BASELINES.join(', ')}`,
    );
  return { steps, baseline };
}

export function validateSanityThreshold(threshold: number): number {
  if (!Number.isFinite(threshold) || threshold < -1 || threshold > 1)
    throw new ValidationError('sanityThreshold', `sanityThreshold must be from -1 to 1, got ${threshold}`);
  return threshold;
}

/** the query string of a saliency image URL (IG's steps and baseline for INTEGRATED_GRADIENTS) */
export function imageQuery(method: SaliencyMethod, render: RenderOptions, ig: IgOptions | null = null): string {
  return new URLSearchParams({
    method,
    colormap: render.colormap,
    opacity: String(render.opacity),
    size: String(render.size),
    ...(ig ? { steps: String(ig.steps), baseline: ig.baseline } : {}),
  }).toString();
}
