/**
 * NumPy `.npy` (format 1.0–3.0) holding a uint8 H×W×3 array: the payload of the write-up's client
 * (`np.save` of the decoded image). Only C-order uint8 (`|u1`) is accepted.
 */
import { ImageFormatError, type RawImage } from './ppm.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * NumPy refuses headers over 10,000 bytes by default (`max_header_size`); so does this, which also keeps
 * the header's regular expressions working on a short text.
 */
const MAX_HEADER_BYTES = 10_000;

export interface NpyHeader {
  width: number;
  height: number;
  /** where the array's bytes start */
  dataStart: number;
}

/** reads and checks the header: a C-ordered uint8 H×W×3 array */
export function readNpyHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b))
    throw new ImageFormatError('not a NumPy .npy file (bad magic)');
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new ImageFormatError(`.npy format version ${major} is not supported (1, 2 or 3)`);
  // version 1 has a 2-byte header length, versions 2 and 3 a 4-byte one
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw new ImageFormatError('.npy header is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES)
    throw new ImageFormatError(`.npy header is ${headerLength} bytes, over ${MAX_HEADER_BYTES}`);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new ImageFormatError('.npy header is truncated');
  const header = new TextDecoder().decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new ImageFormatError('.npy header is malformed');
  if (descr !== '|u1' && descr !== '<u1' && descr !== '>u1') {
    throw new ImageFormatError(`.npy array must be uint8 (|u1), got '${descr}'`);
  }
  if (fortran === 'True') throw new ImageFormatError('.npy array must be C-ordered (fortran_order False)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.length !== 3 || shape[2] !== 3)
    throw new ImageFormatError(`.npy array must be H×W×3, got shape (${shape.join(', ')})`);
  const [height, width] = shape as [number, number, number];
  if (!(Number.isSafeInteger(height) && Number.isSafeInteger(width) && height > 0 && width > 0))
    throw new ImageFormatError('.npy array is empty');
  return { width, height, dataStart };
}

export function decodeNpy(bytes: Uint8Array): RawImage {
  const { width, height, dataStart } = readNpyHeader(bytes);
  const count = height * width * 3;
  if (bytes.length - dataStart < count) {
    throw new ImageFormatError(`.npy data is truncated: expected ${count} bytes, got ${bytes.length - dataStart}`);
  }
  return { width, height, rgb: bytes.subarray(dataStart, dataStart + count) };
}

/** The inverse, for tests and the CLI: a uint8 H×W×3 array as .npy bytes. */
export function encodeNpy(image: RawImage): Buffer {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${image.height}, ${image.width}, 3), }`;
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const prefix = Buffer.alloc(10);
  Buffer.from(MAGIC).copy(prefix);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(image.rgb)]);
}
