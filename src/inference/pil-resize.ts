/**
 * PIL's `Image.resize(size, Image.BILINEAR)` on packed RGB uint8, bit for bit: Pillow's
 * src/libImaging/Resample.c (precompute_coeffs + normalize_coeffs_8bpc: a triangle filter whose support
 * grows with the downscale factor, 22-bit fixed-point weights; the horizontal pass first, rounded to uint8,
 * then the vertical pass). The reference preprocessing (training/gtsrb.py load_resized) is this function.
 */
const PRECISION_BITS = 32 - 8 - 2;

function coefficients(inSize: number, outSize: number): { bounds: Int32Array; kk: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1.0 * filterscale; // bilinear support = 1
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0.0;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1.0 ? 1.0 - t : 0.0;
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax ? (ww !== 0.0 ? pre[x]! / ww : pre[x]!) : 0;
      kk[xx * ksize + x] =
        w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

interface Coefficients {
  bounds: Int32Array;
  kk: Int32Array;
  ksize: number;
}

/**
 * GTSRB-like traffic comes in a few hundred sizes: the weights per (in, out) pair are computed once.
 * Only small tables are kept (a huge downscale's table grows with the input size, and clients choose
 * the sizes), so the cache stays under 512 × 64 KB.
 */
const coefficientCache = new Map<number, Coefficients>();
const COEFFICIENT_CACHE_SIZE = 512;
const CACHED_WEIGHTS_MAX = 16_384;

function cachedCoefficients(inSize: number, outSize: number): Coefficients {
  const key = inSize * 65_536 + outSize;
  let c = coefficientCache.get(key);
  if (!c) {
    c = coefficients(inSize, outSize);
    if (c.kk.length > CACHED_WEIGHTS_MAX) return c;
    if (coefficientCache.size >= COEFFICIENT_CACHE_SIZE) coefficientCache.delete(coefficientCache.keys().next().value!);
    coefficientCache.set(key, c);
  }
  return c;
}

// Fixed-point sums stay below 2^31 (weights sum to 2^22, pixels ≤ 255), so int32 arithmetic is exact.
const ONE_LEVEL = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 256 * ONE_LEVEL ? 255 : v >> PRECISION_BITS;
}

/** horizontal pass over `rows` rows starting at `firstRow`: RGB width → outW */
function resampleRows(
  src: Uint8Array,
  width: number,
  firstRow: number,
  rows: number,
  outW: number,
  h: Coefficients,
): Uint8Array {
  const { bounds, kk, ksize } = h;
  const out = new Uint8Array(outW * rows * 3);
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + firstRow) * width * 3;
    for (let xx = 0; xx < outW; xx++) {
      const taps = bounds[xx * 2 + 1]!;
      const k = xx * ksize;
      let p = rowIn + bounds[xx * 2]! * 3;
      let r = HALF,
        g = HALF,
        b = HALF;
      for (let x = 0; x < taps; x++, p += 3) {
        const w = kk[k + x]!;
        r += src[p]! * w;
        g += src[p + 1]! * w;
        b += src[p + 2]! * w;
      }
      out[o++] = clip8(r);
      out[o++] = clip8(g);
      out[o++] = clip8(b);
    }
  }
  return out;
}

/** vertical pass: rows of `rowLength` bytes, `rowOffset` subtracted from the coefficients' row bounds */
function resampleColumns(
  src: Uint8Array,
  rowLength: number,
  rowOffset: number,
  outH: number,
  v: Coefficients,
): Uint8Array {
  const { bounds, kk, ksize } = v;
  const out = new Uint8Array(rowLength * outH);
  const sums = new Int32Array(rowLength);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]! - rowOffset;
    const taps = bounds[yy * 2 + 1]!;
    sums.fill(HALF);
    for (let y = 0; y < taps; y++) {
      const w = kk[yy * ksize + y]!;
      const base = (ymin + y) * rowLength;
      for (let i = 0; i < rowLength; i++) sums[i] = sums[i]! + src[base + i]! * w;
    }
    const o = yy * rowLength;
    for (let i = 0; i < rowLength; i++) out[o + i] = clip8(sums[i]!);
  }
  return out;
}

export function pilResizeBilinear(
  rgb: Uint8Array,
  width: number,
  height: number,
  outW: number,
  outH: number,
): Uint8Array {
  if (width === outW && height === outH) return rgb.slice();
  const needH = outW !== width;
  const needV = outH !== height;
  const v = cachedCoefficients(height, outH);
  if (!needH) return resampleColumns(rgb, width * 3, 0, outH, v);
  // like Pillow, the horizontal pass only covers the rows the vertical pass reads
  const firstRow = needV ? v.bounds[0]! : 0;
  const lastRow = needV ? v.bounds[outH * 2 - 2]! + v.bounds[outH * 2 - 1]! : height;
  const rows = resampleRows(rgb, width, firstRow, lastRow - firstRow, outW, cachedCoefficients(width, outW));
  return needV ? resampleColumns(rows, outW * 3, firstRow, outH, v) : rows;
}
