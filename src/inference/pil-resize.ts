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
      let t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1.0 ? 1.0 - t : 0.0;
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax ? (ww !== 0.0 ? pre[x]! / ww : pre[x]!) : 0;
      kk[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

function clip8(v: number): number {
  if (v >= 1 << PRECISION_BITS << 8) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / (1 << PRECISION_BITS));
}

export function pilResizeBilinear(rgb: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  if (width === outW && height === outH) return rgb.slice();
  const needH = outW !== width;
  const needV = outH !== height;
  const h = coefficients(width, outW);
  const v = coefficients(height, outH);
  let src = rgb, srcW = width, srcH = height;
  const half = 1 << (PRECISION_BITS - 1);
  if (needH) {
    const yFirst = v.bounds[0]!;
    const yLast = v.bounds[outH * 2 - 2]! + v.bounds[outH * 2 - 1]!;
    const rows = needV ? yLast - yFirst : height;
    const first = needV ? yFirst : 0;
    const tmp = new Uint8Array(outW * rows * 3);
    for (let y = 0; y < rows; y++) {
      const rowIn = (y + first) * srcW * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = h.bounds[xx * 2]!, xmax = h.bounds[xx * 2 + 1]!;
        const k = xx * h.ksize;
        for (let c = 0; c < 3; c++) {
          let ss = half;
          for (let x = 0; x < xmax; x++) ss += src[rowIn + (x + xmin) * 3 + c]! * h.kk[k + x]!;
          tmp[(y * outW + xx) * 3 + c] = clip8(ss);
        }
      }
    }
    if (needV) for (let i = 0; i < outH; i++) v.bounds[i * 2]! -= yFirst;
    src = tmp; srcW = outW; srcH = rows;
  }
  if (!needV) return src;
  const out = new Uint8Array(outW * outH * 3);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = v.bounds[yy * 2]!, ymax = v.bounds[yy * 2 + 1]!;
    const k = yy * v.ksize;
    for (let xx = 0; xx < srcW; xx++) {
      for (let c = 0; c < 3; c++) {
        let ss = half;
        for (let y = 0; y < ymax; y++) ss += src[((y + ymin) * srcW + xx) * 3 + c]! * v.kk[k + y]!;
        out[(yy * srcW + xx) * 3 + c] = clip8(ss);
      }
    }
  }
  return out;
}
