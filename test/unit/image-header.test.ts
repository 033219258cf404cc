/**
 * Image sizes from headers (checked against libvips's reading of the same files), refusals from the
 * header before decoding, and the reduced path for large images (close to PIL's exact resize, and the
 * exact path unchanged for the model's own inputs).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../../src/errors.ts';
import { imageDimensions } from '../../src/inference/decode/dimensions.ts';
import { encodeNpy } from '../../src/inference/decode/npy.ts';
import { pilResizeBilinear } from '../../src/inference/pil-resize.ts';
import {
  inspectImage,
  prepareImage,
  preshrinkSize,
  readImageHeader,
  sniffContentType,
} from '../../src/inference/preprocess.ts';
import { FIXTURE_DIR, hugePng } from '../helpers/images.ts';

const SPEC = { inputSize: [128, 128] as const, mean: [0.5, 0.5, 0.5] as const, std: [0.25, 0.25, 0.25] as const };

function noise(width: number, height: number, channels: 3 | 4 = 3): Buffer {
  const out = Buffer.alloc(width * height * channels);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((i % (width * channels)) + (s >>> 24)) & 255;
  }
  return out;
}

describe('image sizes from headers', () => {
  it('reads PNG, JPEG (baseline, progressive), WebP (lossy, lossless, extended), PPM and .npy like libvips does', async () => {
    const raw = (w: number, h: number, c: 3 | 4 = 3) =>
      sharp(noise(w, h, c), { raw: { width: w, height: h, channels: c } });
    const images: [string, Buffer][] = [
      ['png', await raw(301, 77).png().toBuffer()],
      ['png with alpha', await raw(64, 999, 4).png().toBuffer()],
      ['jpeg', await raw(640, 481).jpeg().toBuffer()],
      ['progressive jpeg', await raw(333, 222).jpeg({ progressive: true }).toBuffer()],
      [
        'jpeg with exif',
        await raw(120, 90)
          .withMetadata({ exif: { IFD0: { Copyright: 'x'.repeat(3000) } } })
          .jpeg()
          .toBuffer(),
      ],
      ['lossy webp', await raw(517, 13).webp().toBuffer()],
      ['lossless webp', await raw(16383, 2).webp({ lossless: true }).toBuffer()],
      ['webp with alpha', await raw(200, 100, 4).webp({ alphaQuality: 50 }).toBuffer()],
    ];
    for (const [name, bytes] of images) {
      const type = sniffContentType(bytes)!;
      const meta = await sharp(bytes).metadata();
      expect(imageDimensions(bytes, type), name).toEqual({ width: meta.width, height: meta.height });
    }
    for (const file of fs.readdirSync(FIXTURE_DIR).filter((f) => /\.(png|jpe?g|webp|ppm)$/.test(f))) {
      const bytes = fs.readFileSync(path.join(FIXTURE_DIR, file));
      const header = readImageHeader(bytes);
      expect(header.dimensions, file).toBeDefined();
      const prepared = await prepareImage(bytes, SPEC, { maxPixels: 1e8 });
      expect({ width: prepared.width, height: prepared.height }, file).toEqual(header.dimensions);
    }
    const npy = encodeNpy({ width: 5, height: 7, rgb: new Uint8Array(105) });
    expect(imageDimensions(npy, 'application/x-npy')).toEqual({ width: 5, height: 7 });
  });

  it('gives up on headers that lie or end early, without reading past them', () => {
    const png = hugePng(100, 100);
    expect(imageDimensions(png.subarray(0, 20), 'image/png')).toBeUndefined();
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0x00]);
    expect(imageDimensions(jpeg, 'image/jpeg')).toBeUndefined();
    // segment lengths that point past the end, or at themselves
    expect(
      imageDimensions(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01, 0xff, 0xc0]), 'image/jpeg'),
    ).toBeUndefined();
    expect(
      imageDimensions(Buffer.from('RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\0\0\0\0\0\0\0', 'latin1'), 'image/webp'),
    ).toBeUndefined();
  });

  it('refuses an image over the pixel limit from its header, whatever its body', async () => {
    const bomb = hugePng(10_000, 10_000);
    expect(bomb.length).toBeLessThan(100_000);
    await expect(prepareImage(bomb, SPEC, { maxPixels: 25_000_000 })).rejects.toThrow(
      /10000×10000 pixels .*\(MAX_IMAGE_PIXELS\)/,
    );
    // the header says 10000×10000; the body is cut: it is still refused for its size, not decoded
    await expect(prepareImage(bomb.subarray(0, 40), SPEC, { maxPixels: 25_000_000 })).rejects.toThrow(
      /MAX_IMAGE_PIXELS/,
    );
  });

  it('refuses a .npy or PPM whose header cannot be read when the request is inspected', async () => {
    const npy = Buffer.alloc(64);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(npy);
    npy.writeUInt32LE(1_000_000, 8);
    await expect(inspectImage(npy)).rejects.toThrow(InvalidImageError);
    await expect(inspectImage(Buffer.from('P6\n# only a comment'))).rejects.toThrow(InvalidImageError);
  });
});

describe('large images', () => {
  it('are reduced to at most 8× the input size first; the model’s own inputs are not', () => {
    expect(preshrinkSize({ width: 1024, height: 1024 }, SPEC)).toBeUndefined();
    expect(preshrinkSize({ width: 4000, height: 3000 }, SPEC)).toEqual({ width: 1024, height: 1024 });
    expect(preshrinkSize({ width: 20_000, height: 60 }, SPEC)).toEqual({ width: 1024, height: 60 });
  });

  it('come out close to PIL’s exact resize of the whole image', async () => {
    const width = 3000;
    const height = 2000;
    const rgb = await sharp(noise(width, height), { raw: { width, height, channels: 3 } })
      .blur(3)
      .raw()
      .toBuffer();
    const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const decoded = await sharp(jpeg).raw().toBuffer();
    const exact = pilResizeBilinear(decoded, width, height, 128, 128);
    const reduced = await prepareImage(jpeg, SPEC, { maxPixels: 25_000_000 });
    expect({ width: reduced.width, height: reduced.height }).toEqual({ width, height });
    let sum = 0;
    for (let i = 0; i < exact.length; i++) sum += Math.abs(exact[i]! - reduced.resized[i]!);
    expect(sum / exact.length).toBeLessThan(2);
  });
});
