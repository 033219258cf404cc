/**
 * The `ImageInput` a client sends, turned into bytes: a multipart file, or base64 text (optionally a
 * `data:` URL, as browsers produce). Base64 is checked in one linear pass: no regular expression meets
 * the client's text.
 */
import { InvalidImageError } from '../errors.ts';
import type { ImagePayload } from './types.ts';

/** exactly one of these is set (ImageInput is a @oneOf input) */
export type ImageInputShape =
  | { file: File; base64?: null; npy?: null }
  | { base64: string; file?: null; npy?: null }
  | { npy: string; file?: null; base64?: null };

export async function readImageInput(input: ImageInputShape, field = 'image'): Promise<ImagePayload> {
  if (input.file) return { bytes: new Uint8Array(await input.file.arrayBuffer()) };
  const key = typeof input.base64 === 'string' ? 'base64' : 'npy';
  return { bytes: decodeBase64(input.base64 ?? input.npy ?? '', `${field}.${key}`) };
}

/**
 * Each input of a list read once: items that are the same upload, or the same base64 text (one
 * variable referenced by every item), share one payload, which the inference service then decodes
 * once. Each item's promise rejects on its own (InvalidImageError).
 */
export function readImageInputs(inputs: readonly ImageInputShape[], field = 'images'): Promise<ImagePayload>[] {
  const files = new Map<File, Promise<ImagePayload>>();
  // keyed by the text itself: base64 and npy text decode alike, and a string's hash is computed once
  const texts = new Map<string, Promise<ImagePayload>>();
  return inputs.map((input, i) => {
    const read = () => readImageInput(input, `${field}[${i}]`);
    return input.file ? once(files, input.file, read) : once(texts, input.base64 ?? input.npy ?? '', read);
  });
}

function once<K, V>(cache: Map<K, V>, key: K, make: () => V): V {
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = make()));
  return value;
}

/** base64 (standard or URL-safe alphabet, whitespace ignored), or a `data:<type>;base64,` URL of it */
export function decodeBase64(text: string, field: string): Buffer {
  const body = text.startsWith('data:') ? dataUrlBody(text, field) : text;
  let padding = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x3d) {
      padding++;
    } else if (isWhitespace(c)) {
      continue;
    } else if (padding > 0 || !isBase64Digit(c)) {
      throw new InvalidImageError(`${field} is not valid base64 (character ${i + 1} of ${body.length})`);
    }
    if (padding > 2) throw new InvalidImageError(`${field} is not valid base64 (more than two '=' at the end)`);
  }
  return Buffer.from(body, 'base64');
}

/** what follows `data:<media type>;base64,`; the media type is not trusted (the bytes decide the format) */
function dataUrlBody(text: string, field: string): string {
  const comma = text.indexOf(',', 0);
  // the header is short; a comma far into the text is not the end of one
  if (comma < 0 || comma > 256 || !text.slice(0, comma).endsWith(';base64')) {
    throw new InvalidImageError(`${field} is a data: URL without ';base64,': send base64 image bytes`);
  }
  return text.slice(comma + 1);
}

function isBase64Digit(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2b ||
    c === 0x2f || // + /
    c === 0x2d ||
    c === 0x5f // - _ (URL-safe)
  );
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
