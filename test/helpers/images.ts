/** Images the tests make themselves (never GTSRB): the model's synthetic fixtures and crafted edge cases. */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { mulberry32 } from '../../src/explain/integrated-gradients.ts';
import { encodeNpy } from '../../src/inference/decode/npy.ts';

export const FIXTURE_DIR = path.resolve('models/gtsrb-resnet18/fixtures');

export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURE_DIR, name));
}

interface FixtureReference {
  file: string;
  predictedClass: number;
  predictedLabel: string;
  probability: number;
}
let references: Map<string, FixtureReference> | undefined;

/**
 * What the bundled model predicts for a fixture, from fixtures.json (training/fixtures.py, PyTorch in float64):
 * for tests whose subject is not the prediction itself, so they need not change with the weights.
 */
export function fixturePrediction(name: string): FixtureReference {
  references ??= new Map(
    (
      JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, 'fixtures.json'), 'utf8')) as { images: FixtureReference[] }
    ).images.map((image) => [image.file, image]),
  );
  const reference = references.get(name);
  if (!reference) throw new Error(`no fixture ${name} in fixtures.json`);
  return reference;
}

/** a fixture image as a uint8 H×W×3 .npy array, the write-up client's payload */
export async function asNpy(image: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(image)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encodeNpy({ width: info.width, height: info.height, rgb: data });
}

/**
 * A valid 1-bit greyscale PNG of width × height (all black): tiny on the wire, huge once decoded —
 * the shape of a decompression bomb.
 */
export function hugePng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const row = Buffer.alloc(1 + Math.ceil(width / 8));
  const idat = zlib.deflateSync(Buffer.concat(Array.from({ length: height }, () => row)), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** a seeded pseudo-random source in [0, 1) (mulberry32, as IG's noise baseline): the same images on every run */
export const seededRandom = mulberry32;

/**
 * Synthetic sign-like images (PNG), `count` of them from `seed`: a red ring, a red-edged triangle or a
 * blue disc with a white glyph, on a two-tone background, 40–96 pixels wide, nearly square, placed and
 * sized at random. `degraded` draws the same distribution and then shifts it strongly, as a dirty or
 * failing camera would: heavy blur, a third of the light, and sensor noise.
 */
export async function syntheticSigns(
  count: number,
  seed: number,
  shift: 'none' | 'degraded' = 'none',
): Promise<Buffer[]> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const width = 40 + Math.floor(random() * 57);
    const height = Math.max(32, Math.round(width * (0.85 + random() * 0.3)));
    const cx = width * (0.4 + random() * 0.2);
    const cy = height * (0.4 + random() * 0.2);
    const r = Math.min(width, height) * (0.3 + random() * 0.12);
    const grey = 60 + Math.floor(random() * 120);
    const sky = `rgb(${grey},${grey + Math.floor(random() * 40)},${grey + Math.floor(random() * 60)})`;
    const ground = `rgb(${Math.floor(grey * 0.6)},${Math.floor(grey * 0.7)},${Math.floor(grey * 0.5)})`;
    const glyph = pick(['30', '50', '70', '!', '>', 'P', 'X']);
    const kind = pick(['ring', 'triangle', 'disc'] as const);
    const shape =
      kind === 'ring'
        ? `<circle cx="${cx}" cy="${cy}" r="${r}" fill="white" stroke="rgb(200,20,30)" stroke-width="${r * 0.28}"/>`
        : kind === 'triangle'
          ? `<polygon points="${cx},${cy - r} ${cx + r * 0.95},${cy + r * 0.7} ${cx - r * 0.95},${cy + r * 0.7}" fill="white" stroke="rgb(200,20,30)" stroke-width="${r * 0.22}"/>`
          : `<circle cx="${cx}" cy="${cy}" r="${r}" fill="rgb(20,70,190)"/>`;
    const ink = kind === 'disc' ? 'white' : 'black';
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <rect width="${width}" height="${height}" fill="${sky}"/>
      <rect y="${height * (0.6 + random() * 0.3)}" width="${width}" height="${height}" fill="${ground}"/>
      ${shape}
      <text x="${cx}" y="${cy + r * 0.25}" font-size="${r * 0.8}" font-family="sans-serif" font-weight="bold" text-anchor="middle" fill="${ink}">${glyph}</text>
    </svg>`;
    let image = sharp(Buffer.from(svg)).removeAlpha();
    if (shift === 'degraded') {
      const { data, info } = await image
        .blur(2.5)
        .modulate({ brightness: 0.35 })
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (let p = 0; p < data.length; p++) data[p] = Math.max(0, Math.min(255, data[p]! + (random() - 0.5) * 60));
      image = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    }
    images.push(await image.png().toBuffer());
  }
  return images;
}

/** `count` PNGs of uniform random RGB noise, 64×64, from `seed`: nothing like any reference */
export async function noiseImages(count: number, seed: number): Promise<Buffer[]> {
  const random = seededRandom(seed);
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const data = Buffer.alloc(64 * 64 * 3);
    for (let p = 0; p < data.length; p++) data[p] = Math.floor(random() * 256);
    images.push(
      await sharp(data, { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toBuffer(),
    );
  }
  return images;
}
