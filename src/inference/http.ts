/**
 * SageMaker's invocation route, so that a script written against the write-up's endpoint only changes
 * its URL:
 *
 *   POST /endpoints/<name>/invocations
 *   Content-Type: application/x-npy (a uint8 H×W×3 array, the write-up's client) or image/* (PNG, JPEG, WebP, PPM)
 *   Accept: application/json (or absent, or *\/*)
 *   → 200 [[<predicted class>]]   (the write-up's transform_fn answer)
 *
 * The image goes through predict: the same admission, decoding, batching, capture and debugger hook.
 * 400 for an unreadable image or a Content-Type that is neither, 404 for an unknown endpoint, 406 for an
 * Accept without JSON, 413 over MAX_BODY_BYTES (counted as the body streams in), 503 when the queue is full.
 */
import { classBody } from '../capture/export.ts';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';
import { noRoute, pathSegment, type Route } from '../server/routes.ts';
import type { InferenceService } from './service.ts';

export function invocationRoutes(inference: Pick<InferenceService, 'predict'>, maxBodyBytes: number): Route[] {
  return [
    {
      method: 'POST',
      path: '/endpoints/',
      role: 'invoke',
      async handle(request, url) {
        const [name, action, ...rest] = url.pathname.slice('/endpoints/'.length).split('/');
        if (!name || action !== 'invocations' || rest.length) throw noRoute(url, 'POST /endpoints/<name>/invocations');
        const endpoint = pathSegment(name, 'endpoint');
        const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/x-npy' && !type.startsWith('image/'))
          throw new ValidationError(
            'content-type',
            `Content-Type must be application/x-npy or image/* (png, jpeg, webp, x-portable-pixmap), got '${type.slice(0, 80)}'`,
          );
        if (!acceptsJson(request.headers.get('accept'))) {
          return new Response(
            JSON.stringify({ code: 'NOT_ACCEPTABLE', message: 'this route answers application/json' }),
            {
              status: 406,
              headers: { 'content-type': 'application/json; charset=utf-8' },
            },
          );
        }
        const bytes = await readBody(request, maxBodyBytes);
        const prediction = await inference.predict(endpoint, { bytes }, 1, { signal: request.signal });
        return new Response(classBody(prediction.predictedClass), {
          status: 200,
          headers: {
            'content-type': 'application/json',
            // SageMaker's invocation answers name the model version that served them
            'x-amzn-invoked-production-variant': prediction.modelVersion,
          },
        });
      },
    },
  ];
}

function acceptsJson(accept: string | null): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]!.trim().toLowerCase();
    return type === 'application/json' || type === 'application/*' || type === '*/*';
  });
}

/** the body's bytes, refused (413) at a declared length over the limit or at the first byte over it */
async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new PayloadTooLargeError(limit, `Request body exceeds the limit of ${limit} bytes (MAX_BODY_BYTES)`);
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks);
}
