/**
 * Bilinear resizing of single-channel maps, exactly as torch.nn.functional.interpolate(mode='bilinear',
 * align_corners=False): output pixel i samples the source at (i + 0.5) · in/out − 0.5, clamped below at
 * 0, between floor(src) and floor(src) + 1 (the last row/column repeats at the far edge).
 *
 * The sampling pattern of an (in → out) axis is computed once and reused. Resizing is linear and keeps
 * constants (each output's two weights sum to 1), which is what lets FullGrad resize a site's channel
 * sum once instead of each channel: Σ_c resize(x_c) = resize(Σ_c x_c), and resize(a·x + b) = a·resize(x) + b.
 */

export interface AxisWeights {
  /** first source index of each output position */
  i0: Int32Array;
  /** second source index (i0 + 1, or i0 at the far edge) */
  i1: Int32Array;
  /** weight of i1 (the weight of i0 is 1 − w1) */
  w1: Float64Array;
}

const axisCache = new Map<string, AxisWeights>();

/** torch's area_pixel_compute_source_index for linear modes with align_corners=False */
export function axisWeights(inSize: number, outSize: number): AxisWeights {
  const key = `${inSize}>${outSize}`;
  let weights = axisCache.get(key);
  if (weights) return weights;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(scale * (o + 0.5) - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[o] = lo;
    i1[o] = lo < inSize - 1 ? lo + 1 : lo;
    w1[o] = src - lo;
  }
  weights = { i0, i1, w1 };
  if (axisCache.size > 256) axisCache.clear();
  axisCache.set(key, weights);
  return weights;
}

type Floats = Float32Array | Float64Array;

/**
 * out[y, x] += scale · resize(src)[y, x] + offset over an outH × outW map, src being inH × inW row-major.
 * With scale = 1, offset = 0 and a zeroed `out` it is a plain resize.
 */
export function resizeBilinearAdd(
  src: Floats,
  inH: number,
  inW: number,
  out: Floats,
  outH: number,
  outW: number,
  scale = 1,
  offset = 0,
): void {
  if (inH === outH && inW === outW) {
    for (let p = 0; p < out.length; p++) out[p] = out[p]! + scale * src[p]! + offset;
    return;
  }
  const ys = axisWeights(inH, outH);
  const xs = axisWeights(inW, outW);
  // rows first: each needed source row is interpolated along x once
  const rowCache = new Float64Array(inH * outW);
  const done = new Uint8Array(inH);
  const rowOf = (r: number): number => {
    const base = r * outW;
    if (!done[r]) {
      const srcBase = r * inW;
      for (let x = 0; x < outW; x++) {
        const w = xs.w1[x]!;
        rowCache[base + x] = src[srcBase + xs.i0[x]!]! * (1 - w) + src[srcBase + xs.i1[x]!]! * w;
      }
      done[r] = 1;
    }
    return base;
  };
  for (let y = 0; y < outH; y++) {
    const a = rowOf(ys.i0[y]!);
    const b = rowOf(ys.i1[y]!);
    const w = ys.w1[y]!;
    const outBase = y * outW;
    for (let x = 0; x < outW; x++) {
      const v = rowCache[a + x]! * (1 - w) + rowCache[b + x]! * w;
      out[outBase + x] = out[outBase + x]! + scale * v + offset;
    }
  }
}

/** a plain bilinear resize (align_corners=False) into a new Float32Array */
export function resizeBilinear(src: Floats, inH: number, inW: number, outH: number, outW: number): Float32Array {
  const out = new Float64Array(outH * outW);
  resizeBilinearAdd(src, inH, inW, out, outH, outW);
  return Float32Array.from(out);
}
