/**
 * An image's width and height from its header alone, before any pixel is decoded: PNG's IHDR, JPEG's
 * start-of-frame segment (found by hopping segment lengths, each byte looked at once at most), WebP's
 * VP8 / VP8L / VP8X header, PPM's text header, .npy's shape. undefined when the header cannot be
 * read; the decoder then refuses the image, or sharp's own pixel limit does.
 */
import { readNpyHeader } from './npy.ts';
import { readPpmHeader } from './ppm.ts';

export interface Dimensions {
  width: number;
  height: number;
}

export type HeaderFormat = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/x-portable-pixmap' | 'application/x-npy';

export function imageDimensions(bytes: Uint8Array, format: HeaderFormat): Dimensions | undefined {
  try {
    switch (format) {
      case 'image/png':
        return pngDimensions(bytes);
      case 'image/jpeg':
        return jpegDimensions(bytes);
      case 'image/webp':
        return webpDimensions(bytes);
      case 'image/x-portable-pixmap': {
        const { width, height } = readPpmHeader(bytes);
        return { width, height };
      }
      case 'application/x-npy': {
        const { width, height } = readNpyHeader(bytes);
        return { width, height };
      }
    }
  } catch {
    return undefined;
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function positive(width: number, height: number): Dimensions | undefined {
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** signature (8), then the IHDR chunk: length (4), type (4), width (4), height (4) */
function pngDimensions(bytes: Uint8Array): Dimensions | undefined {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const v = view(bytes);
  return positive(v.getUint32(16), v.getUint32(20));
}

/** start-of-frame markers: C0–CF except DHT (C4), JPG (C8) and DAC (CC) */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegDimensions(bytes: Uint8Array): Dimensions | undefined {
  const v = view(bytes);
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    // fill bytes, and markers without a length (RST0–7, TEM)
    if (marker === 0xff) {
      i++;
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    // start of scan or end of image before any frame header
    if (marker === 0xda || marker === 0xd9) return undefined;
    const length = v.getUint16(i + 2);
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      if (i + 9 > bytes.length) return undefined;
      return positive(v.getUint16(i + 7), v.getUint16(i + 5));
    }
    i += 2 + length;
  }
  return undefined;
}

/** RIFF (4) size (4) WEBP (4), then the first chunk's FourCC at 12 and its payload at 20 */
function webpDimensions(bytes: Uint8Array): Dimensions | undefined {
  if (bytes.length < 30) return undefined;
  const v = view(bytes);
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunk === 'VP8X') {
    // canvas width − 1 and height − 1, 24 bits each, at 24 and 27
    const width = 1 + (v.getUint16(24, true) | (bytes[26]! << 16));
    const height = 1 + (v.getUint16(27, true) | (bytes[29]! << 16));
    return positive(width, height);
  }
  if (chunk === 'VP8 ') {
    // frame tag (3), start code 9d 01 2a, then 14-bit width and height
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return undefined;
    return positive(v.getUint16(26, true) & 0x3fff, v.getUint16(28, true) & 0x3fff);
  }
  if (chunk === 'VP8L') {
    // signature 0x2f, then width − 1 and height − 1 in 14 bits each
    if (bytes[20] !== 0x2f) return undefined;
    const bits = v.getUint32(21, true);
    return positive((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  return undefined;
}
