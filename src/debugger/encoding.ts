/**
 * How tensors are stored. `f16-deflate` halves the floats to IEEE half precision (round to nearest
 * even) and deflates them: gradients behind ReLUs are mostly exact zeros, which compress well.
 * `f32` keeps the exact values. Decoding always yields float32.
 */
import zlib from 'node:zlib';

export type TensorEncoding = 'f32' | 'f16' | 'f16-deflate' | 'f32-deflate';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

const HALF_TO_FLOAT = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    table[h] =
      exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return table;
})();

export function encodeTensor(values: Float32Array, encoding: TensorEncoding): Uint8Array {
  switch (encoding) {
    case 'f32':
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case 'f32-deflate':
      return zlib.deflateRawSync(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), { level: 1 });
    case 'f16':
    case 'f16-deflate': {
      const half = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) half[i] = toHalf(values[i]!);
      const bytes = new Uint8Array(half.buffer);
      return encoding === 'f16' ? bytes : zlib.deflateRawSync(bytes, { level: 1 });
    }
  }
}

export function decodeTensor(data: Uint8Array, encoding: string, count: number): Float32Array {
  switch (encoding) {
    case 'f32':
      return copyFloats(data, count);
    case 'f32-deflate':
      return copyFloats(zlib.inflateRawSync(data), count);
    case 'f16':
    case 'f16-deflate': {
      const raw = encoding === 'f16' ? data : zlib.inflateRawSync(data);
      if (raw.byteLength !== count * 2) throw new Error(`tensor data holds ${raw.byteLength / 2} halves, expected ${count}`);
      const aligned = new Uint8Array(raw);
      const half = new Uint16Array(aligned.buffer, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = HALF_TO_FLOAT[half[i]!]!;
      return out;
    }
    default:
      throw new Error(`unknown tensor encoding '${encoding}'`);
  }
}

function copyFloats(bytes: Uint8Array, count: number): Float32Array {
  if (bytes.byteLength !== count * 4) throw new Error(`tensor data holds ${bytes.byteLength / 4} floats, expected ${count}`);
  return new Float32Array(new Uint8Array(bytes).buffer);
}
