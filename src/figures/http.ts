/**
 * Figures at stable URLs, for <img> tags and reports (role read, as the saliency images):
 *
 *   GET /figures/saliency/<captureId>.png    input | overlay | heatmap, circle of interest, checks
 *   GET /figures/adversarial/<id>.png        original | adversarial | difference
 *   GET /figures/grid.png?captures=<id>,<id>…&columns=6
 *   GET /figures/comparison.png?left=<captureId>&right=<captureId>[&leftClass=k][&rightClass=j][&leftHeading=…][&rightHeading=…]
 *
 * Saliency and comparison take method, colormap, opacity, radius and threshold as the saliency images
 * do; saliency takes classId. 400 for a bad parameter, 404 for an unknown capture or adversarial id.
 */
import { numberParam } from '../debugger/http.ts';
import { parseMethod, parseRender, validateBackground } from '../debugger/saliency.ts';
import { ValidationError } from '../errors.ts';
import { binary } from '../server/responses.ts';
import { noRoute, pathSegment, type Route } from '../server/routes.ts';
import { type Figure, type FigureRender, type FigureService, MAX_FIGURE_ID_LENGTH } from './service.ts';

export function figureRoutes(figures: FigureService): Route[] {
  return [
    {
      method: 'GET',
      path: '/figures/',
      role: 'read',
      async handle(_request, url) {
        const rest = url.pathname.slice('/figures/'.length);
        const params = url.searchParams;
        if (rest === 'grid.png') {
          const list = params.get('captures') ?? '';
          // bounded before splitting: a list longer than the most ids of the longest length names nothing
          if (list.length > 36 * (MAX_FIGURE_ID_LENGTH + 1))
            throw new ValidationError('captures', 'captures lists too many ids');
          const ids = list === '' ? [] : list.split(',');
          const columns = integerParam(params, 'columns');
          return png(await figures.grid(ids, columns ?? undefined));
        }
        if (rest === 'comparison.png') {
          const side = (name: 'left' | 'right') => {
            const captureId = params.get(name);
            if (!captureId) throw new ValidationError(name, `${name} must name a capture`);
            return {
              source: { captureId },
              classId: integerParam(params, `${name}Class`),
              heading: params.get(`${name}Heading`),
            };
          };
          return png(await figures.comparison([side('left'), side('right')], renderOf(params)).figure);
        }
        const [kind, file, ...more] = rest.split('/');
        if (!file?.endsWith('.png') || more.length || (kind !== 'saliency' && kind !== 'adversarial'))
          throw noRoute(
            url,
            '/figures/saliency/<captureId>.png, /figures/adversarial/<id>.png, /figures/grid.png or /figures/comparison.png',
          );
        const id = pathSegment(file.slice(0, -'.png'.length), 'id');
        if (kind === 'adversarial') return png(await figures.adversarial(id));
        return png(await figures.capture(id, renderOf(params), integerParam(params, 'classId')));
      },
    },
  ];
}

/** method, colormap, opacity (in hundredths) and the background check's radius and threshold */
export function renderOf(params: URLSearchParams): FigureRender {
  const { colormap, opacity } = parseRender({
    colormap: params.get('colormap'),
    opacity: numberParam(params, 'opacity'),
  });
  return {
    method: parseMethod(params.get('method')),
    colormap,
    opacity,
    background: validateBackground({
      radius: numberParam(params, 'radius') ?? undefined,
      threshold: numberParam(params, 'threshold') ?? undefined,
    }),
  };
}

function png(figure: Figure): Response {
  // a capture's figure never changes while it exists; an adversarial id's bytes never change
  return binary(200, figure.png, { 'content-type': 'image/png', 'cache-control': 'private, max-age=3600' });
}

function integerParam(params: URLSearchParams, name: string): number | null {
  const value = numberParam(params, name);
  if (value !== null && !Number.isSafeInteger(value))
    throw new ValidationError(name, `${name} must be an integer, got ${value}`);
  return value;
}
