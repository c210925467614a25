// Cross-group predictions from the Gram matrices of the groups' mean gaps (theory.md section 4).
// Everything here needs only dd[i][j] = d_i . d_j and cc[i][j] = c_i . c_j, so the same functions serve
// `analyze` (Grams from the data) and `compare` (Grams from the analysis JSON, for the run's own mix).

export type Gram = number[][];

/**
 * The official code's pairwise priority level: dbar = (d_i + d_j)/2, p_i = <dbar, d_i>/||dbar||,
 * gap(i,j) = (p_i - p_j) / max(||d_i||, ||d_j||). gap > 0 predicts that i is learned first.
 */
export function priorityGapMatrix(dd: Gram): number[][] {
  const b = dd.length;
  return dd.map((row, i) =>
    Array.from({ length: b }, (_, j) => {
      if (i === j) return 0;
      const dbarNorm = Math.sqrt(dd[i]![i]! + 2 * dd[i]![j]! + dd[j]![j]!) / 2;
      if (!(dbarNorm > 0)) return 0;
      const pi = (dd[i]![i]! + row[j]!) / 2 / dbarNorm;
      const pj = (dd[j]![j]! + dd[i]![j]!) / 2 / dbarNorm;
      return (pi - pj) / Math.sqrt(Math.max(dd[i]![i]!, dd[j]![j]!));
    }),
  );
}

/** Shares of pairs in the trained mix: w_b = n_b / sum n (0 for groups outside the mix). */
export function mixWeights(counts: readonly number[], inMix: readonly boolean[]): number[] {
  const total = counts.reduce((a, n, i) => a + (inMix[i] ? n : 0), 0);
  if (!(total > 0)) throw new Error('mixWeights: the mix holds no pairs');
  return counts.map((n, i) => (inMix[i] ? n / total : 0));
}

/** <dbar, d_b> with dbar = sum_b' w_b' d_b' (the shared update direction of the mix). */
export function sharedUpdateAlignment(dd: Gram, weights: readonly number[]): number[] {
  return dd.map((row) => row.reduce((s, v, j) => s + weights[j]! * v, 0));
}

/**
 * Exact initial margin velocity per group in last-layer mode (theory.md s.2, derived in one-step.ts):
 * mean over group b of s_i g_i . v with v = mean over the mix of s_j g_j = sum_b' w_b' c_b', i.e.
 * c_b . v = sum_b' w_b' cc[b][b']. The margin after one full-batch SGD step is lr * beta^2 times this.
 */
export function marginVelocity(cc: Gram, weights: readonly number[]): number[] {
  return sharedUpdateAlignment(cc, weights);
}

/** Indices sorted by decreasing score (ties keep input order): the predicted learning order. */
export function orderByDecreasing(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
}
