/**
 * MAX_BODY_BYTES before any parsing: a declared Content-Length over the limit is refused before a byte
 * of the body is read, and a body without one (chunked) is counted as it streams into the parser, which
 * fails at the first byte over. Either way the answer is a 413 with code PAYLOAD_TOO_LARGE and the
 * connection closes, so an oversized upload is neither buffered nor read to its end. Yoga's own limit
 * (`maxRequestBodySize`) does the same with another code and message; the server turns it off.
 */
import type { Plugin } from 'graphql-yoga';
import { PayloadTooLargeError } from '../errors.ts';
import { requestError } from './http-errors.ts';

export function useBodyLimit(limit: number): Plugin {
  const tooLarge = () =>
    requestError(new PayloadTooLargeError(limit, `Request body exceeds the limit of ${limit} bytes (MAX_BODY_BYTES)`));
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      // Node's parser has already refused a Content-Length that is not a number.
      if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge();
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((original) => {
        const body = original.body;
        if (!body) return parse(original);
        let bytes = 0;
        // The TransformStream must come from the same implementation as the body's stream.
        const Transform = body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
        const counted = body.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              bytes += chunk.byteLength;
              if (bytes > limit) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        // `duplex` is the Fetch standard's flag for a streamed request body (not in TypeScript's RequestInit yet)
        const init: RequestInit & { duplex: 'half' } = {
          method: original.method,
          headers: original.headers,
          signal: original.signal,
          body: counted,
          duplex: 'half',
        };
        return parse(new fetchAPI.Request(original.url, init));
      });
    },
  };
}
