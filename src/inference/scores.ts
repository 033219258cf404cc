/** From logits to what a client reads: softmax probabilities and the top-k classes. */

export interface ClassScore {
  classId: number;
  probability: number;
}

/** numerically stable softmax of one row */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

export function topK(probabilities: ArrayLike<number>, k: number): ClassScore[] {
  return Array.from({ length: probabilities.length }, (_, classId) => ({
    classId,
    probability: probabilities[classId]!,
  }))
    .sort((a, b) => b.probability - a.probability || a.classId - b.classId)
    .slice(0, Math.max(0, k));
}
