/**
 * Colormaps as 256-entry RGB lookup tables: JET (matplotlib's piecewise-linear segments), VIRIDIS and
 * INFERNO (degree-6 polynomial fits of matplotlib's maps, max error under 1% of the range), GRAY.
 */

export const COLORMAPS = ['JET', 'VIRIDIS', 'INFERNO', 'GRAY'] as const;
export type Colormap = (typeof COLORMAPS)[number];

type Segments = readonly (readonly [number, number])[];

/** matplotlib's _jet_data: (x, value) control points per channel */
const JET: readonly [Segments, Segments, Segments] = [
  [
    [0, 0],
    [0.35, 0],
    [0.66, 1],
    [0.89, 1],
    [1, 0.5],
  ],
  [
    [0, 0],
    [0.125, 0],
    [0.375, 1],
    [0.64, 1],
    [0.91, 0],
    [1, 0],
  ],
  [
    [0, 0.5],
    [0.11, 1],
    [0.34, 1],
    [0.65, 0],
    [1, 0],
  ],
];

function piecewise(segments: Segments, t: number): number {
  for (let i = 1; i < segments.length; i++) {
    const [x1, y1] = segments[i]!;
    const [x0, y0] = segments[i - 1]!;
    if (t <= x1) return y0 + ((t - x0) / (x1 - x0)) * (y1 - y0);
  }
  return segments.at(-1)![1];
}

/** polynomial coefficients c0…c6 per channel (r, g, b) */
type Poly = readonly [readonly number[], readonly number[], readonly number[]];

const VIRIDIS: Poly = [
  [
    0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486, 6.228269936347081,
    4.776384997670288, -5.435455855934631,
  ],
  [
    0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585, 14.17993336680509,
    -13.74514537774601, 4.645852612178535,
  ],
  [
    0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987, 56.69055260068105,
    -65.35303263337234, 26.3124352495832,
  ],
];

const INFERNO: Poly = [
  [
    0.0002189403691192265, 0.1065134194856116, 11.60249308247187, -41.70399613139459, 77.162935699427,
    -71.31942824499214, 25.13112622477341,
  ],
  [
    0.001651004631001012, 0.5639564367884091, -3.972853965665698, 17.43639888205313, -33.40235894210092,
    32.62606426397723, -12.24266895238567,
  ],
  [
    -0.01948089843709184, 3.932712388889277, -15.9423941062914, 44.35414519872813, -81.80730925738993,
    73.20951985803202, -23.07032500287172,
  ],
];

function polynomial(c: readonly number[], t: number): number {
  let v = 0;
  for (let i = c.length - 1; i >= 0; i--) v = v * t + c[i]!;
  return v;
}

const toByte = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255);

const tables = new Map<Colormap, Uint8Array>();

/** 256 × RGB: entry i is the colour of i / 255 */
export function colormapTable(name: Colormap): Uint8Array {
  let table = tables.get(name);
  if (table) return table;
  table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let rgb: [number, number, number];
    switch (name) {
      case 'JET':
        rgb = [piecewise(JET[0], t), piecewise(JET[1], t), piecewise(JET[2], t)];
        break;
      case 'VIRIDIS':
        rgb = [polynomial(VIRIDIS[0], t), polynomial(VIRIDIS[1], t), polynomial(VIRIDIS[2], t)];
        break;
      case 'INFERNO':
        rgb = [polynomial(INFERNO[0], t), polynomial(INFERNO[1], t), polynomial(INFERNO[2], t)];
        break;
      case 'GRAY':
        rgb = [t, t, t];
        break;
    }
    table[i * 3] = toByte(rgb[0]);
    table[i * 3 + 1] = toByte(rgb[1]);
    table[i * 3 + 2] = toByte(rgb[2]);
  }
  tables.set(name, table);
  return table;
}

/** values in [0, 1] (clamped) → packed RGB bytes */
export function applyColormap(values: ArrayLike<number>, name: Colormap): Uint8Array {
  const table = colormapTable(name);
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const k = v > 0 ? (v < 1 ? (v * 255 + 0.5) | 0 : 255) : 0;
    out[i * 3] = table[k * 3]!;
    out[i * 3 + 1] = table[k * 3 + 1]!;
    out[i * 3 + 2] = table[k * 3 + 2]!;
  }
  return out;
}
