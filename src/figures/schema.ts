/**
 * Figures over GraphQL: URLs of the figures served by `figures/http.ts` on the things they draw
 * (`SaliencyMap.figureUrl`, `Adversarial.figureUrl`), every explanation's figure as a data URL
 * (`Explanation.figurePng`), and two root fields for figures of several things:
 *
 *   predictionGrid(captureIds: ["…", "…"], columns: 4) { ... on Figure { url width height } ... on VigilError { message } }
 *   saliencyComparison(left: { captureId: "…" }, right: { captureId: "…", classId: 14 }) { ... on Figure { url dataUrl } }
 */
import { AdversarialRef } from '../attack/schema.ts';
import { parseMethod } from '../debugger/saliency.ts';
import {
  ColormapEnum,
  ExplanationRef,
  type ExplanationView,
  type SaliencyFieldArgs,
  SaliencyMapRef,
  SaliencyMethodEnum,
  type SaliencyView,
  saliencyArgs,
  viewOptions,
} from '../debugger/schema.ts';
import { InvalidImageError, NotFoundError, ValidationError } from '../errors.ts';
import { DEFAULT_BACKGROUND_RADIUS, DEFAULT_BACKGROUND_THRESHOLD } from '../explain/background.ts';
import { pngDataUrl } from '../explain/render.ts';
import { type ImageInputShape, readImageInput } from '../inference/image-input.ts';
import { modelOf } from '../inference/model-of.ts';
import { ImageInput } from '../inference/schema.ts';
import { builder } from '../schema/builder.ts';
import { MAX_GRID_COLUMNS, MAX_GRID_ITEMS } from './render.ts';
import {
  type ComparisonRequest,
  DEFAULT_GRID_COLUMNS,
  type Figure,
  type FigureRender,
  MAX_HEADING_LENGTH,
} from './service.ts';

interface FigureView extends Figure {
  /** server-relative URL, when the figure draws stored things */
  url: string | null;
}

const FigureRef = builder.objectRef<FigureView>('Figure').implement({
  description: 'A PNG figure',
  fields: (t) => ({
    url: t.string({
      nullable: true,
      description: 'server-relative URL of the PNG (GET, role read); null when it draws uploaded images',
      resolve: (f) => f.url,
    }),
    dataUrl: t.string({ description: 'the PNG as a data: URL', resolve: (f) => pngDataUrl(f.png) }),
    width: t.exposeInt('width'),
    height: t.exposeInt('height'),
  }),
});

/** a view's figure options from its map and the saliency arguments it was made with */
function renderOfView(view: ExplanationView): FigureRender {
  return {
    method: view.map.method,
    colormap: view.render.colormap,
    opacity: view.render.opacity,
    background: view.background,
  };
}

builder.interfaceFields(ExplanationRef, (t) => ({
  figurePng: t.string({
    description:
      "the three-panel figure (input; overlay titled with the class and its probability, the circle of interest drawn; heatmap; the background check's line) as a PNG data URL",
    resolve: async (view, _args, { services }) =>
      pngDataUrl((await services.figures.explanation(view.map, renderOfView(view))).png),
  }),
}));

builder.objectFields(SaliencyMapRef, (t) => ({
  figureUrl: t.string({
    nullable: true,
    description:
      'server-relative URL of the three-panel figure (input | overlay | heatmap); null for a step recorded without a capture',
    resolve: (view: SaliencyView) => {
      const { captureId } = view.map.ref;
      if (!captureId) return null;
      const query = new URLSearchParams({
        method: view.map.method,
        colormap: view.render.colormap,
        opacity: String(view.render.opacity),
      });
      if (view.map.classId !== null) query.set('classId', String(view.map.classId));
      const { radius, threshold } = view.background;
      if (radius !== undefined && radius !== DEFAULT_BACKGROUND_RADIUS) query.set('radius', String(radius));
      if (threshold !== undefined && threshold !== DEFAULT_BACKGROUND_THRESHOLD)
        query.set('threshold', String(threshold));
      return `/figures/saliency/${encodeURIComponent(captureId)}.png?${query}`;
    },
  }),
}));

builder.objectFields(AdversarialRef, (t) => ({
  figureUrl: t.string({
    description: 'server-relative URL of the figure original | adversarial ("Model prediction: …") | difference',
    resolve: (a) => `/figures/adversarial/${encodeURIComponent(a.id)}.png`,
  }),
}));

interface ComparisonSideShape {
  captureId?: string | number | null | undefined;
  image?: ImageInputShape | null | undefined;
  classId?: number | null | undefined;
  heading?: string | null | undefined;
}

const ComparisonSideInputRef = builder.inputRef<ComparisonSideShape>('ComparisonSideInput').implement({
  description: 'One side of a comparison: a capture (recorded with the debugger hook) or an uploaded image',
  fields: (t) => ({
    captureId: t.id({ description: 'give captureId or image' }),
    image: t.field({ type: ImageInput }),
    classId: t.int({ description: 'the class to explain (default: the predicted class)' }),
    heading: t.string({ description: `the side's title, at most ${MAX_HEADING_LENGTH} characters` }),
  }),
});

builder.queryFields((t) => ({
  predictionGrid: t.field({
    type: FigureRef,
    description: `Captures in a grid, each titled with its predicted sign name and probability (1–${MAX_GRID_ITEMS} captures)`,
    errors: { types: [NotFoundError, ValidationError] },
    args: {
      captureIds: t.arg.idList({ required: true }),
      columns: t.arg.int({
        defaultValue: DEFAULT_GRID_COLUMNS,
        description: `images per row, 1–${MAX_GRID_COLUMNS}`,
      }),
    },
    resolve: async (_root, args, { services }) => {
      const ids = args.captureIds.map(String);
      const columns = args.columns ?? DEFAULT_GRID_COLUMNS;
      const figure = await services.figures.grid(ids, columns);
      const query = new URLSearchParams({ captures: ids.join(','), columns: String(columns) });
      return { ...figure, url: `/figures/grid.png?${query}` };
    },
  }),
  saliencyComparison: t.field({
    type: FigureRef,
    description:
      "Two images (captures or uploads), each explained for a chosen class, side by side; an upload runs on the endpoint's model or the model named",
    errors: { types: [NotFoundError, ValidationError, InvalidImageError] },
    args: {
      left: t.arg({ type: ComparisonSideInputRef, required: true }),
      right: t.arg({ type: ComparisonSideInputRef, required: true }),
      endpoint: t.arg.string({ description: 'the model of uploaded images: this endpoint’s' }),
      model: t.arg.string({ description: 'the model of uploaded images, by name' }),
      method: t.arg({ type: SaliencyMethodEnum, defaultValue: 'FULLGRAD' }),
      colormap: t.arg({ type: ColormapEnum, defaultValue: 'JET' }),
      opacity: saliencyArgs.opacity,
      backgroundRadius: saliencyArgs.backgroundRadius,
      backgroundThreshold: saliencyArgs.backgroundThreshold,
    },
    resolve: async (_root, args, { services }) => {
      const options: SaliencyFieldArgs = args;
      const { render, background } = viewOptions(options);
      const figureRender: FigureRender = {
        method: parseMethod(args.method),
        colormap: render.colormap,
        opacity: render.opacity,
        background,
      };
      const needsModel = [args.left, args.right].some((s) => s.image);
      const model = needsModel ? await modelOf(services.endpoints, args) : '';
      const sides = await Promise.all(
        [args.left, args.right].map(async (side, i): Promise<ComparisonRequest> => {
          const field = i === 0 ? 'left' : 'right';
          const hasCapture = side.captureId !== null && side.captureId !== undefined;
          if (hasCapture === Boolean(side.image))
            throw new ValidationError(field, `${field}: give exactly one of captureId and image`);
          const source = hasCapture
            ? { captureId: String(side.captureId) }
            : { image: (await readImageInput(side.image!, `${field}.image`)).bytes, model };
          return { source, classId: side.classId, heading: side.heading };
        }),
      );
      const { cacheable, figure } = services.figures.comparison([sides[0]!, sides[1]!], figureRender);
      const drawn = await figure;
      if (!cacheable) return { ...drawn, url: null };
      const query = new URLSearchParams({
        left: String(args.left.captureId),
        right: String(args.right.captureId),
        method: figureRender.method,
        colormap: figureRender.colormap,
        opacity: String(figureRender.opacity),
      });
      for (const [name, side] of [
        ['left', args.left],
        ['right', args.right],
      ] as const) {
        if (side.classId !== null && side.classId !== undefined) query.set(`${name}Class`, String(side.classId));
        if (side.heading) query.set(`${name}Heading`, side.heading);
      }
      if (background.radius !== undefined && background.radius !== DEFAULT_BACKGROUND_RADIUS)
        query.set('radius', String(background.radius));
      if (background.threshold !== undefined && background.threshold !== DEFAULT_BACKGROUND_THRESHOLD)
        query.set('threshold', String(background.threshold));
      return { ...drawn, url: `/figures/comparison.png?${query}` };
    },
  }),
}));
