/**
 * Tensor reductions as smdebug's `reduction_value(step, name, abs=False)`: computed over all values of
 * the decoded tensor (float32 values, float64 arithmetic). std and variance are the population ones
 * (numpy's default, ddof=0); l1 = Σ|v|, l2 = √Σv² (np.linalg.norm of the flattened tensor). With
 * `abs`, every reduction applies to |v|.
 */

export const REDUCTION_KINDS = ['MIN', 'MAX', 'MEAN', 'STD', 'VARIANCE', 'SUM', 'L1', 'L2'] as const;
export type ReductionKind = (typeof REDUCTION_KINDS)[number];

export function reduce(values: ArrayLike<number>, kind: ReductionKind, abs = false): number {
  const n = values.length;
  if (n === 0) return NaN;
  const at = abs ? (i: number) => Math.abs(values[i]!) : (i: number) => values[i]!;
  switch (kind) {
    case 'MIN': {
      let m = Infinity;
      for (let i = 0; i < n; i++) m = Math.min(m, at(i));
      return m;
    }
    case 'MAX': {
      let m = -Infinity;
      for (let i = 0; i < n; i++) m = Math.max(m, at(i));
      return m;
    }
    case 'SUM':
    case 'MEAN': {
      let s = 0;
      for (let i = 0; i < n; i++) s += at(i);
      return kind === 'SUM' ? s : s / n;
    }
    case 'VARIANCE':
    case 'STD': {
      let s = 0;
      for (let i = 0; i < n; i++) s += at(i);
      const mean = s / n;
      let ss = 0;
      for (let i = 0; i < n; i++) {
        const d = at(i) - mean;
        ss += d * d;
      }
      const variance = ss / n;
      return kind === 'VARIANCE' ? variance : Math.sqrt(variance);
    }
    case 'L1': {
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.abs(values[i]!);
      return s;
    }
    case 'L2': {
      let s = 0;
      for (let i = 0; i < n; i++) s += values[i]! * values[i]!;
      return Math.sqrt(s);
    }
  }
}
