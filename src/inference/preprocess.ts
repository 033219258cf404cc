/**
 * The one preprocessing implementation (server, CLI and tests): decode → RGB → plain resize to the
 * model's input size (PIL's bilinear resize, bit for bit; aspect ratio ignored) →
 * scale to [0,1] → normalise with the manifest's mean/std → CHW float32.
 *
 * The size comes from the header first: over MAX_IMAGE_PIXELS the image is refused before a pixel is
 * decoded. An image larger than PRESHRINK_FACTOR times the model's input on a side (a phone photo) is
 * first reduced by libvips, on its own threads, while it decodes (JPEG and WebP decode at 1/2–1/8 scale
 * directly; PNG is read a strip at a time), to at most that factor times the input size, and PIL's
 * resize runs on that: the main thread's work and the memory held no longer grow with the image. Those
 * images are then within a few levels of PIL's result instead of exact; the model's own inputs (GTSRB
 * crops, 15–250 pixels a side) take the exact path.
 */
import sharp from 'sharp';
import { InvalidImageError, messageOf } from '../errors.ts';
import { type Dimensions, imageDimensions } from './decode/dimensions.ts';
import { decodeNpy, readNpyHeader } from './decode/npy.ts';
import { decodePpm, ImageFormatError, isPpm, type RawImage, readPpmHeader } from './decode/ppm.ts';
import { pilResizeBilinear } from './pil-resize.ts';

/** an image wider or taller than this times the model's input is reduced by libvips first */
export const PRESHRINK_FACTOR = 8;

export type ImageContentType =
  | 'image/png'
  | 'image/jpeg'
  | 'image/webp'
  | 'image/x-portable-pixmap'
  | 'application/x-npy';

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

/** An image's format and size, from its first bytes and its header; InvalidImageError when unknown. */
export interface ImageHeader {
  contentType: ImageContentType;
  /** undefined when the header could not be read (sharp then enforces the pixel limit as it decodes) */
  dimensions: Dimensions | undefined;
}

export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw new InvalidImageError('Image is empty (0 bytes)');
  const contentType = sniffContentType(bytes);
  if (!contentType)
    throw new InvalidImageError(
      'Unsupported or unrecognised image format: send PNG, JPEG, WebP, PPM or a uint8 H×W×3 .npy array',
    );
  return { contentType, dimensions: imageDimensions(bytes, contentType) };
}

/**
 * readImageHeader, and where it could not read the size: PPM and .npy are refused (their own parsers
 * say why: the pixels cannot be read without that header); for PNG, JPEG and WebP libvips reads the
 * header (no pixels), so that the size is known before decoding whenever a decoder could know it.
 */
export async function inspectImage(bytes: Uint8Array): Promise<ImageHeader> {
  const header = readImageHeader(bytes);
  if (header.dimensions) return header;
  if (header.contentType === 'image/x-portable-pixmap' || header.contentType === 'application/x-npy') {
    try {
      if (header.contentType === 'application/x-npy') readNpyHeader(bytes);
      else readPpmHeader(bytes);
    } catch (error) {
      if (error instanceof ImageFormatError) throw new InvalidImageError(error.message);
      throw error;
    }
    return header;
  }
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    return meta.width && meta.height ? { ...header, dimensions: { width: meta.width, height: meta.height } } : header;
  } catch {
    // the decoder will say what is wrong with it
    return header;
  }
}

/** Decodes and resizes one image; every way it can be unreadable becomes an InvalidImageError. */
export async function prepareImage(
  bytes: Uint8Array,
  spec: PreprocessSpec,
  limits: DecodeLimits,
  header = readImageHeader(bytes),
): Promise<PreparedImage> {
  const { contentType, dimensions } = header;
  const [height, width] = spec.inputSize;
  try {
    if (dimensions) checkPixels(dimensions.width, dimensions.height, limits);
    let raw: RawImage;
    let original: Dimensions;
    if (contentType === 'image/x-portable-pixmap' || contentType === 'application/x-npy') {
      raw = contentType === 'application/x-npy' ? decodeNpy(bytes) : decodePpm(bytes);
      checkPixels(raw.width, raw.height, limits);
      original = raw;
    } else {
      const shrinkTo = dimensions && preshrinkSize(dimensions, spec);
      const decoded = await decodeWithSharp(bytes, limits, shrinkTo);
      if (decoded.info.channels !== 3)
        throw new InvalidImageError(`Image decoded to ${decoded.info.channels} channels, not 3`);
      raw = { width: decoded.info.width, height: decoded.info.height, rgb: decoded.data };
      original = shrinkTo && dimensions ? dimensions : raw;
    }
    // sharp decodes; the resize is PIL's own algorithm (sharp/libvips's 'linear' upsizing is offset by half an
    // output pixel from PIL's: ~2 uint8 levels mean difference on GTSRB images, up to 150 on edges)
    const resized = pilResizeBilinear(raw.rgb, raw.width, raw.height, width, height);
    return { contentType, width: original.width, height: original.height, resized };
  } catch (error) {
    if (error instanceof InvalidImageError) throw error;
    if (error instanceof ImageFormatError) throw new InvalidImageError(error.message);
    throw new InvalidImageError(`Cannot decode the ${contentType} image: ${messageOf(error)}`);
  }
}

/** the size libvips reduces a large image to before PIL's resize; undefined for images that take the exact path */
export function preshrinkSize(image: Dimensions, spec: PreprocessSpec): Dimensions | undefined {
  const [height, width] = spec.inputSize;
  const maxWidth = PRESHRINK_FACTOR * width;
  const maxHeight = PRESHRINK_FACTOR * height;
  if (image.width <= maxWidth && image.height <= maxHeight) return undefined;
  return { width: Math.min(image.width, maxWidth), height: Math.min(image.height, maxHeight) };
}

/**
 * One sharp pipeline (its fixed cost is most of a small image's decode): the pixel limit is enforced by
 * sharp as well (for a header this module could not read), and only a refusal reads the header again,
 * to say how large the image is. With `shrinkTo`, libvips reduces the image as it decodes it.
 */
async function decodeWithSharp(
  bytes: Uint8Array,
  limits: DecodeLimits,
  shrinkTo?: Dimensions,
): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  try {
    let pipeline = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated', sequentialRead: true })
      .removeAlpha()
      .toColourspace('srgb');
    if (shrinkTo) pipeline = pipeline.resize(shrinkTo.width, shrinkTo.height, { fit: 'fill', kernel: 'linear' });
    return await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    if (/pixel limit/i.test(messageOf(error))) {
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
      if (meta.width && meta.height) checkPixels(meta.width, meta.height, limits);
    }
    throw error;
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
