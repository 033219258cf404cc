/**
 * The figures of captures, explanations and adversarial images: the data gathered from the services
 * that own it (saliency maps, captures, stored adversarial images), drawn by `render.ts`. Figures of
 * stored things (captures, adversarial ids) are cached in an LRU bounded in entries and bytes, keyed by
 * the parsed, canonical options only (opacity in hundredths, as the saliency images), so that varying a
 * URL cannot grow the cache beyond its bounds nor make one figure many entries.
 *
 * Every image panel is the model's view: the request bytes preprocessed as predict does (128×128), or the
 * step's stored input when the capture kept no bytes.
 */
import type { AttackService } from '../attack/service.ts';
import type { CaptureService } from '../capture/service.ts';
import { LruCache } from '../debugger/lru.ts';
import type { ComputedSaliency, SaliencyMethod, SaliencyService } from '../debugger/saliency.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { BackgroundOptions } from '../explain/background.ts';
import type { Colormap } from '../explain/colormap.ts';
import { argmax } from '../explain/fullgrad.ts';
import type { RgbImage } from '../explain/render.ts';
import { prepareImage, writeNormalised } from '../inference/preprocess.ts';
import { softmax } from '../inference/scores.ts';
import { specOf } from '../inference/service.ts';
import type { ModelRegistry } from '../models/registry.ts';
import {
  adversarialFigure,
  type ComparisonSide,
  comparisonFigure,
  type Figure,
  type GridItem,
  MAX_GRID_COLUMNS,
  MAX_GRID_ITEMS,
  predictionGrid,
  saliencyFigure,
} from './render.ts';

export type { Figure } from './render.ts';

/** the longest capture or adversarial id looked up (UUIDs are 36) */
export const MAX_FIGURE_ID_LENGTH = 64;
export const MAX_HEADING_LENGTH = 60;
export const DEFAULT_GRID_COLUMNS = 6;

export interface FigureRender {
  method: SaliencyMethod;
  colormap: Colormap;
  /** in hundredths (parseRender rounds it) */
  opacity: number;
  background: BackgroundOptions;
}

/** one side of a comparison: a capture, or an uploaded image on a model */
export type SideSource = { captureId: string } | { image: Uint8Array; model: string };

export interface ComparisonRequest {
  source: SideSource;
  /** the class explained; default the image's predicted class */
  classId?: number | null | undefined;
  heading?: string | null | undefined;
}

export interface FigureServiceDeps {
  saliency: Pick<SaliencyService, 'compute' | 'stepOfCapture' | 'background' | 'label' | 'explainImage' | 'sanity'>;
  captures: Pick<CaptureService, 'getMany' | 'inputsOf'>;
  attacks: Pick<AttackService, 'images'>;
  runtimes: Pick<ModelRegistry, 'get'>;
  /** a stored capture larger than this (width × height) is not decoded (MAX_IMAGE_PIXELS) */
  maxInputPixels: number;
}

export class FigureService {
  readonly cache = new LruCache<Figure>(256, 48 * 1024 * 1024, (f) => f.png.byteLength);

  constructor(private readonly deps: FigureServiceDeps) {}

  /** the three-panel figure of a capture's saliency map (cached) */
  capture(captureId: string, render: FigureRender, classId: number | null | undefined): Promise<Figure> {
    checkId(captureId, 'Capture');
    const key = `saliency|${captureId}|${renderKey(render)}|${classId ?? ''}`;
    return this.cache.getOrCompute(key, async () => {
      const ref = await this.deps.saliency.stepOfCapture(captureId);
      const map = await this.deps.saliency.compute(ref, render.method, { classId });
      return this.explanation(map, render);
    });
  }

  /** the three-panel figure of a computed map (a step's or an uploaded image's): not cached here */
  async explanation(map: ComputedSaliency, render: FigureRender): Promise<Figure> {
    const { input, probabilities } = await this.#modelView(map);
    const classId = map.classId ?? argmax(probabilities);
    return saliencyFigure({
      input,
      map,
      classId,
      label: this.deps.saliency.label(map.model, classId),
      confidence: probabilities[classId] ?? null,
      predictedClass: argmax(probabilities),
      method: map.method,
      background: this.deps.saliency.background(map, render.background),
      sanity: await this.deps.saliency.sanity(map),
      colormap: render.colormap,
      opacity: render.opacity,
    });
  }

  /** original | adversarial | difference of a stored adversarial image (cached: its bytes never change) */
  adversarial(id: string): Promise<Figure> {
    checkId(id, 'Adversarial');
    return this.cache.getOrCompute(`adversarial|${id}`, async () => {
      const { record, png, original } = await this.deps.attacks.images(id);
      if (!original)
        throw new NotFoundError(
          'Adversarial',
          id,
          `Adversarial '${id}' was stored before its original image was kept: create it again for the figure`,
        );
      const label = (classId: number) => this.deps.saliency.label(record.model, classId);
      const runtime = await this.deps.runtimes.get(record.model);
      const spec = specOf(runtime);
      const limits = { maxPixels: this.deps.maxInputPixels };
      const [before, after] = await Promise.all([
        prepareImage(original, spec, limits),
        prepareImage(png, spec, limits),
      ]);
      const [height, width] = spec.inputSize;
      return adversarialFigure({
        original: { width, height, rgb: before.resized },
        adversarial: { width, height, rgb: after.resized },
        originalClass: record.originalClass,
        originalLabel: label(record.originalClass),
        adversarialClass: record.adversarialClass,
        adversarialLabel: label(record.adversarialClass),
        adversarialConfidence: record.adversarialClass === record.target ? record.targetConfidence : null,
        l2: record.l2,
        linf: record.linf,
      });
    });
  }

  /** captures in a grid, each titled with its predicted sign name and confidence (cached) */
  grid(captureIds: readonly string[], columns = DEFAULT_GRID_COLUMNS): Promise<Figure> {
    checkGrid(captureIds, columns);
    return this.cache.getOrCompute(`grid|${columns}|${captureIds.join(',')}`, async () => {
      const [views, inputs] = await Promise.all([
        this.deps.captures.getMany(captureIds),
        this.deps.captures.inputsOf(captureIds),
      ]);
      const items: GridItem[] = await Promise.all(
        captureIds.map(async (id) => {
          const view = views.get(id);
          if (!view) throw new NotFoundError('Capture', id);
          const bytes = inputs.get(id)?.data;
          if (!bytes) throw new NotFoundError('Capture', id, `Capture '${id}' kept no request bytes to draw`);
          const runtime = await this.deps.runtimes.get(view.model);
          const spec = specOf(runtime);
          const prepared = await prepareImage(bytes, spec, { maxPixels: this.deps.maxInputPixels });
          const classId = view.predictedClass ?? 0;
          return {
            image: { width: spec.inputSize[1], height: spec.inputSize[0], rgb: prepared.resized },
            classId,
            label: this.deps.saliency.label(view.model, classId),
            confidence: view.confidence ?? null,
          };
        }),
      );
      const endpoints = [...new Set(captureIds.map((id) => views.get(id)!.endpointName))];
      return predictionGrid(items, `Predictions of endpoint ${endpoints.join(', ')}`, columns);
    });
  }

  /**
   * Two images, each explained for a chosen class, side by side. Cached when both sides are captures
   * (the figure then has a URL); uploaded images are drawn each time.
   */
  comparison(
    sides: readonly [ComparisonRequest, ComparisonRequest],
    render: FigureRender,
  ): { cacheable: boolean; figure: Promise<Figure> } {
    for (const side of sides) {
      if (side.heading && Array.from(side.heading).length > MAX_HEADING_LENGTH)
        throw new ValidationError('heading', `a heading holds at most ${MAX_HEADING_LENGTH} characters`);
      if ('captureId' in side.source) checkId(side.source.captureId, 'Capture');
    }
    const draw = () => this.#comparison(sides, render);
    const ids = sides.map((s) => ('captureId' in s.source ? s.source.captureId : null));
    if (ids.some((id) => id === null)) return { cacheable: false, figure: draw() };
    const key = `comparison|${renderKey(render)}|${sides.map((s, i) => `${ids[i]}|${s.classId ?? ''}|${s.heading ?? ''}`).join('|')}`;
    return { cacheable: true, figure: this.cache.getOrCompute(key, draw) };
  }

  async #comparison(sides: readonly [ComparisonRequest, ComparisonRequest], render: FigureRender): Promise<Figure> {
    const drawn = await Promise.all(
      sides.map(async (side, i): Promise<ComparisonSide> => {
        const map: ComputedSaliency =
          'captureId' in side.source
            ? await this.deps.saliency.compute(
                await this.deps.saliency.stepOfCapture(side.source.captureId),
                render.method,
                {
                  classId: side.classId,
                },
              )
            : await this.deps.saliency.explainImage(side.source.image, side.source.model, render.method, side.classId);
        const { input, probabilities } = await this.#modelView(map);
        const predicted = argmax(probabilities);
        const classId = map.classId ?? predicted;
        return {
          heading: side.heading ?? (i === 0 ? 'Left' : 'Right'),
          input,
          map,
          classId,
          label: this.deps.saliency.label(map.model, classId),
          predicted: {
            classId: predicted,
            label: this.deps.saliency.label(map.model, predicted),
            confidence: probabilities[predicted] ?? null,
          },
          background: this.deps.saliency.background(map, render.background),
          sanity: await this.deps.saliency.sanity(map),
        };
      }),
    );
    return comparisonFigure([drawn[0]!, drawn[1]!], {
      method: render.method,
      colormap: render.colormap,
      opacity: render.opacity,
    });
  }

  /**
   * The image as the model saw it and the model's probabilities for it: the request bytes preprocessed
   * again when the map kept them (exact), else its de-normalised input tensor.
   */
  async #modelView(map: ComputedSaliency): Promise<{ input: RgbImage; probabilities: Float64Array }> {
    const runtime = await this.deps.runtimes.get(map.model);
    const spec = specOf(runtime);
    const [height, width] = spec.inputSize;
    let rgb = map.input.rgb;
    if (map.captureInput) {
      const prepared = await prepareImage(map.captureInput, spec, { maxPixels: this.deps.maxInputPixels }).catch(
        () => null,
      );
      if (prepared) rgb = prepared.resized;
    }
    const normalised = new Float32Array(3 * width * height);
    writeNormalised(rgb, spec, normalised);
    const probabilities = softmax(await runtime.runServing(normalised, 1));
    return { input: { width, height, rgb }, probabilities };
  }
}

function renderKey(render: FigureRender): string {
  return `${render.method}|${render.colormap}|${render.opacity}|${render.background.radius ?? ''}|${render.background.threshold ?? ''}`;
}

function checkId(id: string, type: string): void {
  // ids are UUIDs: a longer one names nothing, and is not looked up
  if (id.length === 0 || id.length > MAX_FIGURE_ID_LENGTH)
    throw new NotFoundError(type, id.slice(0, MAX_FIGURE_ID_LENGTH));
}

function checkGrid(captureIds: readonly string[], columns: number): void {
  if (captureIds.length === 0 || captureIds.length > MAX_GRID_ITEMS)
    throw new ValidationError(
      'captureIds',
      `a prediction grid holds 1 to ${MAX_GRID_ITEMS} captures, got ${captureIds.length}`,
    );
  if (!Number.isInteger(columns) || columns < 1 || columns > MAX_GRID_COLUMNS)
    throw new ValidationError('columns', `columns must be an integer from 1 to ${MAX_GRID_COLUMNS}, got ${columns}`);
  for (const id of captureIds) checkId(id, 'Capture');
}
