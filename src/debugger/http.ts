/**
 * Saliency images at stable URLs, for <img> tags:
 *
 *   GET /saliency/<captureId>/heatmap.png | overlay.png
 *   GET /steps/<endpoint>/<step>/heatmap.png | overlay.png
 *
 * Query: method (FULLGRAD | SIMPLE_FULLGRAD | INPUT_X_GRADIENT | GRAD_CAM | INTEGRATED_GRADIENTS, with
 * steps (1–256) and baseline (BLACK | ZERO | BLUR | NOISE) for the latter), colormap (JET | VIRIDIS | INFERNO | GRAY),
 * opacity (0–1), size (16–1024 px), classId (the class explained; default the one the step stored: another
 * is recomputed with the debug graph from the captured image), and for steps mode (default PREDICT). 400 for a bad parameter or a
 * step missing the tensors a method needs, 404 for an unknown capture, endpoint or step, or a capture
 * recorded without the hook.
 */
import { ValidationError } from '../errors.ts';
import { isOneOf } from '../guards.ts';
import { binary } from '../server/responses.ts';
import { noRoute, pathSegment, type Route } from '../server/routes.ts';
import { type ImageKind, parseIg, parseMethod, parseRender, type SaliencyService } from './saliency.ts';
import { MODE_KEYS } from './store.ts';
import type { StepRef, TrialService } from './trial.ts';

export function saliencyRoutes(trials: TrialService, saliency: SaliencyService): Route[] {
  const serve = async (
    url: URL,
    kind: ImageKind,
    ref: () => Promise<StepRef>,
    cacheSeconds: number,
  ): Promise<Response> => {
    const params = url.searchParams;
    const method = parseMethod(params.get('method'));
    const render = parseRender({
      colormap: params.get('colormap'),
      opacity: numberParam(params, 'opacity'),
      size: numberParam(params, 'size'),
    });
    const classText = params.get('classId');
    const classId = classText === null || classText === '' ? null : Number(classText);
    if (classId !== null && !Number.isSafeInteger(classId))
      throw new ValidationError('classId', `classId must be a class number, got '${classText}'`);
    const ig = parseIg({ steps: numberParam(params, 'steps'), baseline: params.get('baseline') });
    const png = await saliency.png(await ref(), method, kind, render, { classId, ig });
    return binary(200, png, {
      'content-type': 'image/png',
      // a step's tensors never change; a step URL names an endpoint, which can be deleted and recreated
      'cache-control': `private, max-age=${cacheSeconds}`,
    });
  };

  return [
    {
      method: 'GET',
      path: '/saliency/',
      role: 'read',
      handle(_request, url) {
        const [captureId, file, ...rest] = url.pathname.slice('/saliency/'.length).split('/');
        const kind = imageKind(file);
        if (!captureId || !kind || rest.length) throw noRoute(url, '/saliency/<captureId>/heatmap.png or overlay.png');
        return serve(url, kind, () => saliency.stepOfCapture(pathSegment(captureId, 'captureId')), 3600);
      },
    },
    {
      method: 'GET',
      path: '/steps/',
      role: 'read',
      handle(_request, url) {
        const [endpoint, stepText, file, ...rest] = url.pathname.slice('/steps/'.length).split('/');
        const kind = imageKind(file);
        if (!endpoint || !stepText || !kind || rest.length) {
          throw noRoute(url, '/steps/<endpoint>/<step>/heatmap.png or overlay.png');
        }
        const step = Number(stepText);
        if (!/^\d+$/.test(stepText) || !Number.isSafeInteger(step))
          throw new ValidationError('step', `step must be a non-negative integer, got '${stepText}'`);
        const mode = url.searchParams.get('mode') ?? 'PREDICT';
        if (!isOneOf(MODE_KEYS, mode)) throw new ValidationError('mode', `mode must be one of ${MODE_KEYS.join(', ')}`);
        return serve(
          url,
          kind,
          async () => trials.step(await trials.trial(pathSegment(endpoint, 'endpoint')), step, mode),
          60,
        );
      },
    },
  ];
}

export function numberParam(params: URLSearchParams, name: string): number | null {
  const raw = params.get(name);
  if (raw === null || raw === '') return null;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ValidationError(name, `${name} must be a number, got '${raw}'`);
  return value;
}

/** `heatmap.png` → heatmap, `overlay.png` → overlay; anything else is no image */
function imageKind(file: string | undefined): ImageKind | undefined {
  if (file === 'heatmap.png') return 'heatmap';
  if (file === 'overlay.png') return 'overlay';
  return undefined;
}
