/**
 * The pure saliency math (src/explain/): bilinear resize as torch's interpolate(align_corners=False),
 * the channel-sum / affine identities FullGrad's fast path relies on, the background-saliency check,
 * colormaps and rendering.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_MESSAGE, backgroundSaliency } from '../../src/explain/background.ts';
import { applyColormap, type COLORMAPS, colormapTable } from '../../src/explain/colormap.ts';
import {
  completeness,
  completenessFromTerms,
  MINMAX_EPS,
  type SiteGradient,
  saliencyMap,
} from '../../src/explain/fullgrad.ts';
import { blend, denormalise, heatmapPng, overlayPng } from '../../src/explain/render.ts';
import { axisWeights, resizeBilinear, resizeBilinearAdd } from '../../src/explain/resize.ts';

/** a seeded generator, so failures reproduce */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** torch.nn.functional.interpolate(bilinear, align_corners=False), written the plain way */
function naiveResize(src: ArrayLike<number>, inH: number, inW: number, outH: number, outW: number): Float64Array {
  const out = new Float64Array(outH * outW);
  const source = (o: number, inSize: number, outSize: number) => {
    const s = Math.max((o + 0.5) * (inSize / outSize) - 0.5, 0);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), l: s - i0 };
  };
  for (let y = 0; y < outH; y++) {
    const sy = source(y, inH, outH);
    for (let x = 0; x < outW; x++) {
      const sx = source(x, inW, outW);
      const at = (r: number, c: number) => src[r * inW + c]!;
      out[y * outW + x] =
        (1 - sy.l) * ((1 - sx.l) * at(sy.i0, sx.i0) + sx.l * at(sy.i0, sx.i1)) +
        sy.l * ((1 - sx.l) * at(sy.i1, sx.i0) + sx.l * at(sy.i1, sx.i1));
    }
  }
  return out;
}

describe('resize', () => {
  it("matches torch's known output for a 2×2 → 4×4 upsampling", () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode='bilinear', align_corners=False)
    const expected = [1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0];
    expect(Array.from(resizeBilinear(Float32Array.of(1, 2, 3, 4), 2, 2, 4, 4))).toEqual(expected);
  });

  it('matches the plain formula for the sizes FullGrad uses and for downscaling', () => {
    const rand = random(1);
    for (const [inH, inW, outH, outW] of [
      [4, 4, 128, 128],
      [8, 8, 128, 128],
      [16, 16, 128, 128],
      [32, 32, 128, 128],
      [64, 64, 128, 128],
      [5, 7, 13, 3],
      [128, 128, 256, 256],
      [128, 128, 48, 48],
    ]) {
      const src = Float64Array.from({ length: inH! * inW! }, rand);
      const fast = resizeBilinear(src, inH!, inW!, outH!, outW!);
      const slow = naiveResize(src, inH!, inW!, outH!, outW!);
      for (let i = 0; i < slow.length; i++) expect(Math.abs(fast[i]! - slow[i]!)).toBeLessThan(1e-6);
    }
  });

  it('keeps constants, and the scale/offset form is the affine map of the resize', () => {
    const w = axisWeights(4, 128);
    for (let i = 0; i < 128; i++) expect(w.w1[i]).toBeGreaterThanOrEqual(0);
    const constant = resizeBilinear(new Float64Array(16).fill(2.5), 4, 4, 128, 128);
    expect(constant.every((v) => Math.abs(v - 2.5) < 1e-6)).toBe(true);
    const rand = random(2);
    const src = Float64Array.from({ length: 64 }, rand);
    const out = new Float64Array(128 * 128);
    resizeBilinearAdd(src, 8, 8, out, 128, 128, 3, -0.5);
    const plain = naiveResize(src, 8, 8, 128, 128);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(3 * plain[i]! - 0.5, 12);
  });
});

describe('FullGrad', () => {
  /** the reference definition, literally: normalise every channel value, resize each channel, sum */
  function literalFullGrad(
    input: Float32Array,
    inputGrad: Float32Array,
    sites: SiteGradient[],
    useBias: boolean,
  ): Float64Array {
    const plane = 16 * 16;
    const out = new Float64Array(plane);
    const minmax = (t: Float64Array) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of t) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      return t.map((v) => (v - lo) / (hi - lo + MINMAX_EPS));
    };
    const xg = minmax(Float64Array.from(input, (v, i) => Math.abs(v * inputGrad[i]!)));
    for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) out[p] = out[p]! + xg[c * plane + p]!;
    for (const site of sites) {
      const [C, h, w] = site.shape;
      const t = minmax(
        Float64Array.from(site.grad!, (g, i) => Math.abs((useBias ? site.bias![Math.floor(i / (h * w))]! : 1) * g)),
      );
      for (let c = 0; c < C; c++) {
        const resized = naiveResize(t.subarray(c * h * w, (c + 1) * h * w), h, w, 16, 16);
        for (let p = 0; p < plane; p++) out[p] = out[p]! + resized[p]!;
      }
    }
    return out;
  }

  const rand = random(3);
  const input = Float32Array.from({ length: 3 * 16 * 16 }, () => rand() * 4 - 2);
  const inputGrad = Float32Array.from({ length: 3 * 16 * 16 }, () => (rand() < 0.5 ? 0 : rand() - 0.5));
  const sites: SiteGradient[] = [
    [4, 8, 8],
    [6, 4, 4],
    [2, 16, 16],
  ].map(([c, h, w], k) => ({
    name: `s${k}`,
    shape: [c!, h!, w!] as const,
    grad: Float32Array.from({ length: c! * h! * w! }, () => (rand() < 0.6 ? 0 : (rand() - 0.5) * 1e-3)),
    bias: Array.from({ length: c! }, () => rand() * 2 - 1),
  }));

  it('resizing channel sums with one affine per site equals normalising, resizing and summing each channel', () => {
    for (const [method, useBias] of [
      ['FULLGRAD', true],
      ['SIMPLE_FULLGRAD', false],
    ] as const) {
      const fast = saliencyMap(method, { input, inputGrad, inputShape: [3, 16, 16], sites });
      const literal = literalFullGrad(input, inputGrad, sites, useBias);
      for (let i = 0; i < literal.length; i++) expect(Math.abs(fast.values[i]! - literal[i]!)).toBeLessThan(1e-5);
    }
  });

  it('INPUT_X_GRADIENT normalises the channel sum to [0, 1]', () => {
    const map = saliencyMap('INPUT_X_GRADIENT', { input, inputGrad, inputShape: [3, 16, 16], sites: [] });
    expect(Math.min(...map.values)).toBe(0);
    expect(Math.max(...map.values)).toBeCloseTo(1, 6);
  });

  it('completeness sums input·grad, bias·Σgrad and the fc bias of the argmax class', () => {
    const logits = [0.5, 3, -1];
    const c = completeness({ input, inputGrad, sites, fcBias: [0.1, 0.2, 0.3], logits });
    let explained = 0.2;
    for (let i = 0; i < input.length; i++) explained += input[i]! * inputGrad[i]!;
    for (const s of sites)
      s.grad!.forEach((g, i) => (explained += s.bias![Math.floor(i / (s.shape[1] * s.shape[2]))]! * g));
    expect(c.classId).toBe(1);
    expect(c.logit).toBe(3);
    expect(c.explained).toBeCloseTo(explained, 10);
    expect(c.residual).toBeCloseTo(Math.abs(3 - explained) / 3, 10);
    // the same sums, gathered while computing a map that read every bias
    for (const method of ['FULLGRAD', 'SIMPLE_FULLGRAD'] as const) {
      const map = saliencyMap(method, { input, inputGrad, inputShape: [3, 16, 16], sites });
      const fromMap = completenessFromTerms(map.terms, [0.1, 0.2, 0.3], logits)!;
      expect(fromMap.classId).toBe(1);
      expect(fromMap.explained).toBeCloseTo(c.explained, 12);
    }
    const inputOnly = saliencyMap('INPUT_X_GRADIENT', { input, inputGrad, inputShape: [3, 16, 16], sites: [] });
    expect(completenessFromTerms(inputOnly.terms, [0.1, 0.2, 0.3], logits)).toBeNull();
  });

  it('refuses tensors of the wrong size', () => {
    expect(() =>
      saliencyMap('FULLGRAD', { input, inputGrad: inputGrad.subarray(1), inputShape: [3, 16, 16], sites }),
    ).toThrow(/input_grad/);
    const noBias = sites.map((s) => ({ ...s, bias: undefined }));
    expect(() => saliencyMap('FULLGRAD', { input, inputGrad, inputShape: [3, 16, 16], sites: noBias })).toThrow(/bias/);
    expect(() =>
      saliencyMap('SIMPLE_FULLGRAD', { input, inputGrad, inputShape: [3, 16, 16], sites: noBias }),
    ).not.toThrow();
  });
});

describe('background saliency', () => {
  const size = 128;
  /** a Gaussian blob at (cx, cy) */
  const blob = (cx: number, cy: number, sigma = 8) =>
    Float32Array.from({ length: size * size }, (_, i) =>
      Math.exp(-(((i % size) - cx) ** 2 + (Math.floor(i / size) - cy) ** 2) / (2 * sigma ** 2)),
    );

  it('flags a map with its mass at the border', () => {
    const result = backgroundSaliency(blob(6, 64), size, size);
    expect(result.flagged).toBe(true);
    expect(result.max).toBeGreaterThanOrEqual(0.85);
    expect(result.message).toContain(BACKGROUND_MESSAGE);
    expect(result).toMatchObject({ radius: 0.4, threshold: 0.85 });
  });

  it('does not flag a centred map', () => {
    const result = backgroundSaliency(blob(64, 64), size, size);
    expect(result.flagged).toBe(false);
    expect(result.message).toBeNull();
    expect(result.max).toBeLessThan(0.1);
    expect(result.mean).toBeLessThan(result.max);
  });

  it('normalises first, counts the pixels outside the circle, and honours radius and threshold', () => {
    // scaled and shifted: the same normalised map
    const shifted = blob(6, 64).map((v) => 1000 + 50 * v);
    expect(backgroundSaliency(shifted, size, size).max).toBeCloseTo(backgroundSaliency(blob(6, 64), size, size).max, 6);
    const r = backgroundSaliency(blob(64, 64), size, size, { radius: 0.4 });
    expect(r.pixels).toBeCloseTo(size * size - Math.PI * (0.4 * size) ** 2, -2);
    // the map's peak 26 px from the centre: outside a 0.1 circle, inside a 0.4 one
    expect(backgroundSaliency(blob(90, 64), size, size, { radius: 0.1 }).flagged).toBe(true);
    expect(backgroundSaliency(blob(90, 64), size, size, { radius: 0.4 }).flagged).toBe(false);
    expect(backgroundSaliency(blob(6, 64), size, size, { threshold: 1.01 }).flagged).toBe(false);
    expect(backgroundSaliency(new Float32Array(size * size).fill(3), size, size).flagged).toBe(false);
  });
});

describe('colormaps and rendering', () => {
  it("has matplotlib's end points and midpoints", () => {
    const at = (name: (typeof COLORMAPS)[number], i: number) =>
      Array.from(colormapTable(name).subarray(i * 3, i * 3 + 3));
    expect(at('JET', 0)).toEqual([0, 0, 128]);
    expect(at('JET', 255)).toEqual([128, 0, 0]);
    expect(at('GRAY', 128)).toEqual([128, 128, 128]);
    // matplotlib: viridis(0) = (68, 1, 84), viridis(0.5) ≈ (33, 145, 140), viridis(1) = (253, 231, 37)
    const close = (a: number[], b: number[]) => a.forEach((v, k) => expect(Math.abs(v - b[k]!)).toBeLessThanOrEqual(4));
    close(at('VIRIDIS', 0), [68, 1, 84]);
    close(at('VIRIDIS', 128), [33, 145, 140]);
    close(at('VIRIDIS', 255), [253, 231, 37]);
    // inferno(0) = (0, 0, 4), inferno(0.5) ≈ (188, 55, 84), inferno(1) = (252, 255, 164)
    close(at('INFERNO', 0), [0, 0, 4]);
    close(at('INFERNO', 128), [188, 55, 84]);
    close(at('INFERNO', 255), [252, 255, 164]);
    expect(Array.from(applyColormap([-1, 2], 'GRAY'))).toEqual([0, 0, 0, 255, 255, 255]);
  });

  it('renders a heatmap and an overlay PNG of the requested size', async () => {
    const map = { width: 128, height: 128, values: Float32Array.from({ length: 128 * 128 }, (_, i) => i % 128) };
    const heat = await heatmapPng(map, { colormap: 'JET', size: 64 });
    expect(await sharp(heat).metadata()).toMatchObject({ format: 'png', width: 64, height: 64, channels: 3 });
    const full = await sharp(await heatmapPng(map, { colormap: 'JET', size: 128 }))
      .raw()
      .toBuffer();
    expect(Array.from(full.subarray(0, 3))).toEqual([0, 0, 128]); // left column: the map's minimum
    expect(Array.from(full.subarray(127 * 3, 128 * 3))).toEqual([128, 0, 0]); // right column: its maximum
    const rgb = new Uint8Array(128 * 128 * 3).fill(200);
    const overlay = await overlayPng(
      map,
      { kind: 'rgb', image: { width: 128, height: 128, rgb } },
      { colormap: 'GRAY', opacity: 0.25, size: 128 },
    );
    const pixels = await sharp(overlay).raw().toBuffer();
    expect(pixels[0]).toBe(150); // 0.75·200 + 0.25·0
    // undecodable base bytes fall back
    const fallback = await overlayPng(
      map,
      { kind: 'encoded', bytes: Buffer.from('P6 junk') },
      { colormap: 'GRAY', opacity: 0, size: 16 },
      { kind: 'rgb', image: { width: 128, height: 128, rgb } },
    );
    expect((await sharp(fallback).raw().toBuffer())[0]).toBe(200);
    expect(Array.from(blend(Uint8Array.of(100), Uint8Array.of(200), 0.5))).toEqual([150]);
  });

  it('de-normalises an input tensor back to its bytes', () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const bytes = Uint8Array.from({ length: 3 * 4 }, (_, i) => (i * 37) % 256);
    const tensor = new Float32Array(12);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 4; p++) tensor[c * 4 + p] = (bytes[p * 3 + c]! / 255 - mean[c]!) / std[c]!;
    expect(Array.from(denormalise(tensor, [3, 2, 2], mean, std).rgb)).toEqual(Array.from(bytes));
  });
});
