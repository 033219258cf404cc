/**
 * The one preprocessing implementation (server, CLI and tests): decode → RGB → plain resize to the
 * model's input size (bilinear, aspect ratio ignored, as torchvision's Resize((128,128)) on PIL) →
 * scale to [0,1] → normalise with the manifest's mean/std → CHW float32.
 */
import sharp from 'sharp';
import { InvalidImageError } from '../errors.ts';
import { decodeNpy } from './decode/npy.ts';
import { decodePpm, ImageFormatError, isPpm, readPpmHeader, type RawImage } from './decode/ppm.ts';

export type ImageContentType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/x-portable-pixmap' | 'application/x-npy';

export interface PreprocessSpec {
  /** [height, width] */
  inputSize: readonly [number, number];
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export interface DecodeLimits {
  /** width × height above this is refused before the pixels are decoded */
  maxPixels: number;
}

export interface PreparedImage {
  contentType: ImageContentType;
  /** the original size */
  width: number;
  height: number;
  /** resized RGB, packed HWC uint8 */
  resized: Uint8Array;
}

export function sniffContentType(bytes: Uint8Array): ImageContentType | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'image/webp';
  if (isPpm(b)) return 'image/x-portable-pixmap';
  if (b.length >= 6 && b[0] === 0x93 && ascii(b, 1, 6) === 'NUMPY') return 'application/x-npy';
  return undefined;
}

function ascii(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...b.subarray(from, to));
}

function checkPixels(width: number, height: number, limits: DecodeLimits): void {
  if (width * height > limits.maxPixels) {
    throw new InvalidImageError(
      `Image is ${width}×${height} pixels (${(width * height).toLocaleString('en')}), over the limit of ${limits.maxPixels.toLocaleString('en')} (MAX_IMAGE_PIXELS)`,
    );
  }
}

/** Decodes and resizes one image; every way it can be unreadable becomes an InvalidImageError. */
export async function prepareImage(bytes: Uint8Array, spec: PreprocessSpec, limits: DecodeLimits): Promise<PreparedImage> {
  if (bytes.length === 0) throw new InvalidImageError('Image is empty (0 bytes)');
  const contentType = sniffContentType(bytes);
  if (!contentType) throw new InvalidImageError('Unsupported or unrecognised image format: send PNG, JPEG, WebP, PPM or a uint8 H×W×3 .npy array');
  const [height, width] = spec.inputSize;
  try {
    let pipeline: sharp.Sharp;
    let original: { width: number; height: number };
    if (contentType === 'image/x-portable-pixmap' || contentType === 'application/x-npy') {
      if (contentType === 'image/x-portable-pixmap') {
        const header = readPpmHeader(bytes);
        checkPixels(header.width, header.height, limits);
      }
      const raw: RawImage = contentType === 'application/x-npy' ? decodeNpy(bytes) : decodePpm(bytes);
      checkPixels(raw.width, raw.height, limits);
      original = raw;
      pipeline = sharp(raw.rgb, { raw: { width: raw.width, height: raw.height, channels: 3 } });
    } else {
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
      if (!meta.width || !meta.height) throw new InvalidImageError(`Cannot read the ${contentType} image's size`);
      checkPixels(meta.width, meta.height, limits);
      original = { width: meta.width, height: meta.height };
      pipeline = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated' }).removeAlpha().toColourspace('srgb');
    }
    const resized = await pipeline.resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    if (resized.length !== width * height * 3) throw new InvalidImageError(`Image decoded to an unexpected channel count`);
    return { contentType, width: original.width, height: original.height, resized };
  } catch (error) {
    if (error instanceof InvalidImageError) throw error;
    if (error instanceof ImageFormatError) throw new InvalidImageError(error.message);
    throw new InvalidImageError(`Cannot decode the ${contentType} image: ${(error as Error).message}`);
  }
}

/** Writes one resized HWC uint8 image as normalised CHW float32 at `offset` of `out`. */
export function writeNormalised(resized: Uint8Array, spec: PreprocessSpec, out: Float32Array, offset = 0): void {
  const plane = spec.inputSize[0] * spec.inputSize[1];
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * spec.std[c]!);
    const shift = spec.mean[c]! / spec.std[c]!;
    const base = offset + c * plane;
    for (let p = 0; p < plane; p++) out[base + p] = resized[p * 3 + c]! * scale - shift;
  }
}

/** prepareImage + writeNormalised for a single image */
export async function preprocess(bytes: Uint8Array, spec: PreprocessSpec, limits: DecodeLimits): Promise<Float32Array> {
  const prepared = await prepareImage(bytes, spec, limits);
  const out = new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]);
  writeNormalised(prepared.resized, spec, out);
  return out;
}
