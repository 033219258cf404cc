/**
 * A saliency map's sanity check, in the spirit of "Sanity Checks for Saliency Maps" (Adebayo et al.,
 * 2018): a map that explains *this* image should not rank its pixels as the same method ranks them for
 * an image with nothing in it. The check compares a map, by Spearman rank correlation, with the same
 * method's map (same model, class and options) of
 *
 *   - a blank image: uniform mid-grey (RGB 128), and
 *   - a noise image: uniform RGB noise from a fixed seed (SANITY_NOISE_SEED), the same for every check;
 *
 * and says the map depends on its input when both correlations stay below the threshold (default 0.5).
 * FullGrad on this model, for instance, draws mostly the same centred blob for any input.
 *
 * Spearman's ρ is Pearson's correlation of the ranks, ties given their average rank; ranking sorts the
 * indices once (O(n log n)). A constant map has no ranking: it correlates 0 with anything, and a
 * constant map itself is reported as not depending on its input (it shows nothing).
 */
import { levelImage, mulberry32, type Normalisation } from './integrated-gradients.ts';

export const DEFAULT_SANITY_THRESHOLD = 0.5;
export const SANITY_NOISE_SEED = 0xadeba;
export const SANITY_BLANK_LEVEL = 128;

export interface SanityCheck {
  /** ρ(map, the map of the blank image) */
  blankRankCorrelation: number;
  /** ρ(map, the map of the noise image) */
  noiseRankCorrelation: number;
  /** both below the threshold (false for a constant map) */
  dependsOnInput: boolean;
  threshold: number;
}

/** the maps of the blank and noise images, for the same model, method, class and options */
export interface SanityReferences {
  blank: ArrayLike<number>;
  noise: ArrayLike<number>;
}

/** the check of a map against its references (pure; the service computes and caches the references) */
export function sanityCheck(
  map: ArrayLike<number>,
  references: SanityReferences,
  threshold = DEFAULT_SANITY_THRESHOLD,
): SanityCheck {
  return withThreshold(correlationsOf(map, references), threshold);
}

/** the rank correlations of a map with its references (the expensive part: two rankings, O(n log n)) */
export function correlationsOf(map: ArrayLike<number>, references: SanityReferences): RankCorrelations {
  if (references.blank.length !== map.length || references.noise.length !== map.length)
    throw new Error(`sanity references must hold ${map.length} values like the map`);
  const ranks = rank(map);
  return {
    blankRankCorrelation: pearson(ranks, rank(references.blank)),
    noiseRankCorrelation: pearson(ranks, rank(references.noise)),
    constant: isConstant(ranks),
  };
}

/** the correlations a check keeps (cached); the threshold applies on top */
export interface RankCorrelations {
  blankRankCorrelation: number;
  noiseRankCorrelation: number;
  /** the map is constant */
  constant: boolean;
}

export function withThreshold(c: RankCorrelations, threshold = DEFAULT_SANITY_THRESHOLD): SanityCheck {
  return {
    blankRankCorrelation: c.blankRankCorrelation,
    noiseRankCorrelation: c.noiseRankCorrelation,
    dependsOnInput: !c.constant && Math.max(c.blankRankCorrelation, c.noiseRankCorrelation) < threshold,
    threshold,
  };
}

function isConstant(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
  return true;
}

/** Spearman's rank correlation of two equally long arrays */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: lengths differ (${a.length} vs ${b.length})`);
  return pearson(rank(a), rank(b));
}

/** 1-based ranks, ties averaged: one sort of the indices (NaN ranks last) */
export function rank(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const key = Float64Array.from(values, (v) => (Number.isNaN(v) ? Infinity : v));
  order.sort((i, j) => key[i]! - key[j]! || i - j);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && key[order[end]!] === key[order[start]!]) end++;
    const average = (start + end + 1) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = average;
    start = end;
  }
  return ranks;
}

/** Pearson's correlation; 0 when either side is constant */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`pearson: lengths differ (${n} vs ${b.length})`);
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= n;
  meanB /= n;
  let cov = 0;
  let varA = 0;
  let varB = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    cov += da * db;
    varA += da * da;
    varB += db * db;
  }
  if (varA === 0 || varB === 0) return 0;
  return Math.max(-1, Math.min(1, cov / Math.sqrt(varA * varB)));
}

/** the blank and noise images, normalised [3, H, W] */
export function sanityImages(
  shape: readonly [number, number, number],
  norm: Normalisation,
): { blank: Float32Array; noise: Float32Array } {
  const random = mulberry32(SANITY_NOISE_SEED);
  return {
    blank: levelImage(shape, norm, () => SANITY_BLANK_LEVEL),
    noise: levelImage(shape, norm, () => Math.floor(random() * 256)),
  };
}
