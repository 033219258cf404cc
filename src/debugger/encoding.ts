/**
 * How tensors are stored. `f16-deflate` halves the floats to IEEE half precision (round to nearest
 * even) and deflates them: gradients behind ReLUs are mostly exact zeros, which compress well.
 * The sparse encodings do better on those zeros. Their planes: a bitmask of the non-zero halves (bit i
 * of byte i>>3, LSB first), the non-zero halves' low bytes, their high bytes (byte-shuffled: the high
 * bytes — sign, exponent, top mantissa bits — are the compressible ones); −0 is stored as 0.
 * `f16-sparse-split` (the hook's default for activations and gradients): a u32 (LE) length, then the
 * mask and high bytes Huffman-coded in one stream, then the low bytes as they are — Huffman coding
 * leaves them the same size (324 KB → 324 KB on a FullGrad step) and costs as much time as the rest.
 * `f16-sparse-deflate` (the earlier default, still read): all three planes in one Huffman stream.
 * Both hold the same values as `f16-deflate`, in ~25 % fewer bytes on the bundled model's FullGrad
 * tensors, and encode and decode faster (bench/debugger.ts). `f32` keeps the exact values. Decoding
 * always yields float32.
 */
import zlib from 'node:zlib';
import type { SiteSummary } from '../explain/fullgrad.ts';

export type TensorEncoding = 'f32' | 'f16' | 'f16-deflate' | 'f32-deflate' | 'f16-sparse-deflate' | 'f16-sparse-split';

export const TENSOR_ENCODINGS: readonly TensorEncoding[] = [
  'f32',
  'f16',
  'f16-deflate',
  'f32-deflate',
  'f16-sparse-deflate',
  'f16-sparse-split',
];

/** the encodings whose bytes FullGrad can summarise without building the float tensor (sparseHalvesSummary) */
export function isSparseEncoding(encoding: string): boolean {
  return encoding === 'f16-sparse-deflate' || encoding === 'f16-sparse-split';
}

/** Huffman coding only: the planes have few repeats for LZ77 to find; faster (~2×) and smaller (~4 %) than level 1 */
const HUFFMAN_ONLY: zlib.ZlibOptions = { level: 1, strategy: zlib.constants.Z_HUFFMAN_ONLY };

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

/** toHalf over a whole array */
export function toHalves(values: Float32Array): Uint16Array {
  const bits = floatBits(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBits(bits[i]!);
  return out;
}

/** the floats' bits as int32 (a Uint32Array would hand V8 a double for every negative float) */
function floatBits(values: Float32Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length);
}

const scratchFloat = new Float32Array(1);
const scratchBits = new Int32Array(scratchFloat.buffer);

/**
 * toHalf on a float's bits, without a call or a loop (the hook converts ~1M values a step). Normal
 * results: rebias the exponent (127 → 15) and round to nearest even by adding 0xfff plus the kept
 * mantissa's lowest bit before dropping 13 bits (a carry moves into the exponent, up to Inf). Subnormal
 * results (gradients deep in the network are often this small): |v| + 0.5 rounded to float32 is |v|
 * rounded to even in units of 2^-24, the ulp of [0.5, 1) (rounding the float64 sum first is harmless: 53 ≥ 2·24 + 2).
 */
function halfBits(x: number): number {
  const a = x & 0x7fffffff;
  const sign = (x >>> 16) & 0x8000;
  if (a >= 0x47800000) return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00); // NaN; Inf and overflow → Inf
  // both candidates, then a mask picks one: which applies is unpredictable in gradients
  const normal = (a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >> 13;
  scratchBits[0] = a;
  scratchFloat[0] = scratchFloat[0]! + 0.5;
  const subnormal = scratchBits[0]! - 0x3f000000;
  const isSubnormal = (a - 0x38800000) >> 31;
  return sign | (subnormal & isSubnormal) | (normal & ~isSubnormal);
}

const HALF_TO_FLOAT = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    table[h] =
      exp === 0
        ? sign * mant * 2 ** -24
        : exp === 0x1f
          ? mant
            ? NaN
            : sign * Infinity
          : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return table;
})();

/** for each mask byte: how many bits are set, and their positions (LSB first) */
const BIT_COUNT = new Uint8Array(256);
const BIT_POSITIONS = new Uint8Array(256 * 8);
for (let m = 0; m < 256; m++) {
  for (let bit = 0; bit < 8; bit++) if (m & (1 << bit)) BIT_POSITIONS[m * 8 + BIT_COUNT[m]!++] = bit;
}

export function encodeTensor(values: Float32Array, encoding: TensorEncoding): Uint8Array {
  const floatBytes = () => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  switch (encoding) {
    case 'f32':
      return floatBytes();
    case 'f32-deflate':
      return zlib.deflateRawSync(floatBytes(), { level: 1 });
    case 'f16':
      return new Uint8Array(toHalves(values).buffer);
    case 'f16-deflate':
      return zlib.deflateRawSync(toHalves(values), { level: 1 });
    case 'f16-sparse-deflate':
      return zlib.deflateRawSync(sparseHalves(values, 'mask-lo-hi'), HUFFMAN_ONLY);
    case 'f16-sparse-split': {
      const planes = sparseHalves(values, 'mask-hi-lo');
      const lo = (planes.byteLength - ((values.length + 7) >>> 3)) / 2;
      const coded = zlib.deflateRawSync(planes.subarray(0, planes.byteLength - lo), HUFFMAN_ONLY);
      const out = new Uint8Array(4 + coded.byteLength + lo);
      new DataView(out.buffer).setUint32(0, coded.byteLength, true);
      out.set(coded, 4);
      out.set(planes.subarray(planes.byteLength - lo), 4 + coded.byteLength);
      return out;
    }
    default:
      throw new Error(`unknown tensor encoding '${String(encoding)}'`);
  }
}

/**
 * The sparse planes of the non-zero halves (see the file comment) in either order, straight from the
 * floats: one pass converts and builds the mask a byte at a time, one writes the byte planes.
 */
function sparseHalves(values: Float32Array, order: 'mask-lo-hi' | 'mask-hi-lo'): Uint8Array {
  const n = values.length;
  const bits = floatBits(values);
  const maskBytes = (n + 7) >>> 3;
  const { low, high, mask } = planeScratch(n, maskBytes);
  let nonZero = 0;
  for (let byte = 0, i = 0; byte < maskBytes; byte++) {
    let m = 0;
    for (let bit = 0; bit < 8 && i < n; bit++, i++) {
      // branch-free: zeros and non-zeros alternate unpredictably in gradients. −0 (a third of a
      // ReLU network's gradient entries) is stored as a zero: its sign carries nothing.
      const h = halfBits(bits[i]!);
      const magnitude = h & 0x7fff;
      const isSet = (magnitude | -magnitude) >>> 31;
      low[nonZero] = h;
      high[nonZero] = h >>> 8;
      nonZero += isSet;
      m |= isSet << bit;
    }
    mask[byte] = m;
  }
  const out = new Uint8Array(maskBytes + 2 * nonZero);
  out.set(mask.subarray(0, maskBytes));
  out.set(low.subarray(0, nonZero), order === 'mask-lo-hi' ? maskBytes : maskBytes + nonZero);
  out.set(high.subarray(0, nonZero), order === 'mask-lo-hi' ? maskBytes + nonZero : maskBytes);
  return out;
}

/** sparseHalves' working planes, kept between calls (a step converts ~20 tensors of up to 1 MB each) */
let scratch = { low: new Uint8Array(0), high: new Uint8Array(0), mask: new Uint8Array(0) };

function planeScratch(count: number, maskBytes: number): typeof scratch {
  if (scratch.low.length < count + 1)
    scratch = { low: new Uint8Array(count + 1), high: new Uint8Array(count + 1), mask: new Uint8Array(maskBytes) };
  return scratch;
}

/** where the planes of an inflated `f16-sparse-deflate` tensor start: mask ‖ low bytes ‖ high bytes */
function sparseLayout(raw: Uint8Array, count: number): { maskBytes: number; nonZero: number } {
  const maskBytes = (count + 7) >>> 3;
  if (raw.byteLength < maskBytes || (raw.byteLength - maskBytes) % 2 !== 0) {
    throw new Error(`tensor data holds ${raw.byteLength} bytes, not a mask of ${count} values and their halves`);
  }
  return { maskBytes, nonZero: (raw.byteLength - maskBytes) / 2 };
}

function unsparseToFloats(raw: Uint8Array, count: number): Float32Array {
  const { maskBytes, nonZero } = sparseLayout(raw, count);
  const out = new Float32Array(count);
  let lo = maskBytes;
  for (let byte = 0; byte < maskBytes; byte++) {
    const m = raw[byte]!;
    if (m === 0) continue;
    const base = byte << 3;
    const n = BIT_COUNT[m]!;
    for (let k = 0; k < n; k++) {
      const i = base + BIT_POSITIONS[(m << 3) + k]!;
      if (i >= count) throw new Error('tensor mask marks values past the tensor');
      out[i] = HALF_TO_FLOAT[raw[lo]! | (raw[lo + nonZero]! << 8)]!;
      lo++;
    }
  }
  if (lo !== maskBytes + nonZero) throw new Error(`tensor mask marks ${lo - maskBytes} values, data holds ${nonZero}`);
  return out;
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
      if (raw.byteLength !== count * 2)
        throw new Error(`tensor data holds ${raw.byteLength / 2} halves, expected ${count}`);
      const aligned = new Uint8Array(raw);
      const half = new Uint16Array(aligned.buffer, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = HALF_TO_FLOAT[half[i]!]!;
      return out;
    }
    case 'f16-sparse-deflate':
    case 'f16-sparse-split':
      return unsparseToFloats(inflateSparse(data, encoding, count), count);
    default:
      throw new Error(`unknown tensor encoding '${encoding}'`);
  }
}

function copyFloats(bytes: Uint8Array, count: number): Float32Array {
  if (bytes.byteLength !== count * 4)
    throw new Error(`tensor data holds ${bytes.byteLength / 4} floats, expected ${count}`);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

/** the planes of a sparse-encoded tensor of `count` values, as `f16-sparse-deflate` holds them: mask ‖ low bytes ‖ high bytes */
export function inflateSparse(data: Uint8Array, encoding: string, count: number): Uint8Array {
  if (encoding === 'f16-sparse-deflate') return zlib.inflateRawSync(data);
  if (encoding !== 'f16-sparse-split') throw new Error(`'${encoding}' is not a sparse tensor encoding`);
  if (data.byteLength < 4) throw new Error(`tensor data holds ${data.byteLength} bytes, too few for '${encoding}'`);
  const codedLength = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  if (4 + codedLength > data.byteLength)
    throw new Error(`tensor data holds ${data.byteLength} bytes, less than its coded part`);
  const maskAndHigh = zlib.inflateRawSync(data.subarray(4, 4 + codedLength));
  const low = data.subarray(4 + codedLength);
  const maskBytes = (count + 7) >>> 3;
  if (maskAndHigh.byteLength !== maskBytes + low.byteLength) {
    throw new Error(
      `tensor data holds ${low.byteLength} low bytes and ${maskAndHigh.byteLength - maskBytes} high bytes for ${count} values`,
    );
  }
  const planes = new Uint8Array(maskBytes + 2 * low.byteLength);
  planes.set(maskAndHigh.subarray(0, maskBytes));
  planes.set(low, maskBytes);
  planes.set(maskAndHigh.subarray(maskBytes), maskBytes + low.byteLength);
  return planes;
}

/**
 * FullGrad's per-site summary (see explain/fullgrad.ts SiteSummary) straight from the raw bytes of an
 * `f16-sparse-deflate` [C,H,W] gradient, visiting only its non-zero values: the same numbers as
 * summarizeDense on the decoded tensor (zeros add nothing to the sums, and count as 0 for min/max),
 * without materialising the floats.
 */
export function sparseHalvesSummary(
  raw: Uint8Array,
  shape: readonly [number, number, number],
  weights: Float64Array | null,
): SiteSummary {
  const [channels, h, w] = shape;
  const plane = h * w;
  const count = channels * plane;
  const { maskBytes, nonZero } = sparseLayout(raw, count);
  const sum = new Float64Array(plane);
  const channelSums = new Float64Array(channels);
  let min = Infinity;
  let max = -Infinity;
  let c = 0;
  let channelStart = 0;
  let channelEnd = plane;
  let weight = weights ? weights[0]! : 1;
  let channelSum = 0;
  let lo = maskBytes;
  const hiOffset = nonZero;
  for (let byte = 0; byte < maskBytes; byte++) {
    const m = raw[byte]!;
    if (m === 0) continue;
    const base = byte << 3;
    const n = BIT_COUNT[m]!;
    const positions = m << 3;
    for (let k = 0; k < n; k++) {
      const i = base + BIT_POSITIONS[positions + k]!;
      if (i >= channelEnd) {
        if (i >= count) throw new Error('tensor mask marks values past the tensor');
        do {
          channelSums[c] = channelSum;
          channelSum = 0;
          c++;
          channelStart = channelEnd;
          channelEnd += plane;
        } while (i >= channelEnd);
        weight = weights ? weights[c]! : 1;
      }
      const g = HALF_TO_FLOAT[raw[lo]! | (raw[lo + hiOffset]! << 8)]!;
      lo++;
      channelSum += g;
      const v = weight * Math.abs(g);
      if (v < min) min = v;
      if (v > max) max = v;
      const p = i - channelStart;
      sum[p] = sum[p]! + v;
    }
  }
  channelSums[c] = channelSum;
  if (lo !== maskBytes + nonZero) throw new Error(`tensor mask marks ${lo - maskBytes} values, data holds ${nonZero}`);
  // the zeros' w·|0| = 0
  if (nonZero < count) {
    if (0 < min) min = 0;
    if (0 > max) max = 0;
  }
  return { sum, min, max, channelSums };
}
