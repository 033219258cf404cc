/**
 * Netpbm PPM (P6 binary, P3 text) → packed RGB. GTSRB ships as PPM and sharp cannot read it.
 * 16-bit samples (maxval > 255) are scaled to 8 bits.
 */
export interface RawImage {
  width: number;
  height: number;
  /** packed RGB, 3 bytes a pixel, row-major */
  rgb: Uint8Array;
}

export class ImageFormatError extends Error {}

export function isPpm(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x50 && (bytes[1] === 0x36 || bytes[1] === 0x33);
}

/** reads the header's width, height and maxval; `offset` is where the samples start */
export function readPpmHeader(bytes: Uint8Array): {
  binary: boolean;
  width: number;
  height: number;
  maxval: number;
  offset: number;
} {
  const binary = bytes[1] === 0x36;
  const fields: number[] = [];
  let i = 2;
  while (fields.length < 3) {
    // whitespace and comments between fields
    while (i < bytes.length && (isSpace(bytes[i]!) || bytes[i] === 0x23)) {
      if (bytes[i] === 0x23) while (i < bytes.length && bytes[i] !== 0x0a) i++;
      else i++;
    }
    const start = i;
    while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) i++;
    if (start === i) throw new ImageFormatError('PPM header is truncated or malformed');
    fields.push(Number(new TextDecoder().decode(bytes.subarray(start, i))));
  }
  const [width, height, maxval] = fields as [number, number, number];
  // a field of many digits is a number, but not a size any image has (nor one to multiply by)
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0))
    throw new ImageFormatError('PPM header has invalid dimensions');
  if (!(maxval > 0 && maxval < 65536)) throw new ImageFormatError('PPM header has an invalid maxval');
  // exactly one whitespace byte separates the header from binary samples
  return { binary, width, height, maxval, offset: i + 1 };
}

/** Decodes the samples; the output is allocated only once the input is known to hold them all. */
export function decodePpm(bytes: Uint8Array): RawImage {
  const { binary, width, height, maxval, offset } = readPpmHeader(bytes);
  const count = width * height * 3;
  if (binary) {
    const bytesPerSample = maxval > 255 ? 2 : 1;
    if (bytes.length - offset < count * bytesPerSample) {
      throw new ImageFormatError(
        `PPM data is truncated: expected ${count * bytesPerSample} bytes of samples, got ${Math.max(0, bytes.length - offset)}`,
      );
    }
    const rgb = new Uint8Array(count);
    for (let s = 0; s < count; s++) {
      const v = bytesPerSample === 2 ? (bytes[offset + 2 * s]! << 8) | bytes[offset + 2 * s + 1]! : bytes[offset + s]!;
      rgb[s] = maxval === 255 ? v : Math.round((v * 255) / maxval);
    }
    return { width, height, rgb };
  }
  // text samples take two bytes each at least (a digit and a separator)
  if (bytes.length - offset < 2 * count - 1)
    throw new ImageFormatError(`PPM data is truncated: expected ${count} samples in ${bytes.length - offset} bytes`);
  const text = new TextDecoder().decode(bytes.subarray(offset - 1)).replace(/#[^\n]*/g, ' ');
  const values = text.trim().split(/\s+/).filter(Boolean);
  if (values.length < count)
    throw new ImageFormatError(`PPM data is truncated: expected ${count} samples, got ${values.length}`);
  const rgb = new Uint8Array(count);
  for (let s = 0; s < count; s++) {
    const token = values[s]!;
    const value = isDigits(token) ? Number(token) : Number.NaN;
    if (!(value <= maxval))
      throw new ImageFormatError(`PPM sample ${s + 1} is '${token.slice(0, 20)}', not 0–${maxval}`);
    rgb[s] = Math.round((value * 255) / maxval);
  }
  return { width, height, rgb };
}

function isDigits(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return token.length > 0;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}
