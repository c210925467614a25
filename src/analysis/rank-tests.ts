// Significance tests that can fail, for the predictions prefdyn checks (theory.md s.7): one-sided, in
// the direction the theory predicts, decided before any run.
//
// Spearman permutation test. Under H0 (prediction and observed speed unrelated) every pairing of the
// observed ranks with the predicted ones is equally likely, so
//   p = P(rho_perm >= rho_obs) over the n! pairings.
// n <= EXACT_MAX_N: all n! pairings are enumerated (exact; a perfect order of 5 gives 1/120).
// Larger n: P seeded random pairings, p = (1 + #{rho_perm >= rho_obs}) / (1 + P) (Davison & Hinkley
// 1997, eq. 4.11), never 0, and valid (P(p <= a) <= a under H0) for any P.
// Ties keep their average ranks: the permutation moves the observed ranks as they are.
//
// Sign test for pairwise predictions ("i is learned before j"): with `decided` pairs and `hits` that came
// true, p = P(X >= hits), X ~ Binomial(decided, 1/2). Pairs that share a behaviour are not independent;
// the test is then approximate, as its users are told.
import type { Rng } from '../util/rng.js';
import { averageRanks, pearson } from './rank-correlation.js';

/** Largest n whose n! pairings are enumerated (8! = 40,320). */
export const EXACT_MAX_N = 8;

export interface TestResult {
  /** One-sided p-value; NaN when the statistic is undefined (a side without spread). */
  p_value: number;
  /** How it was computed, e.g. "exact permutation (120 pairings)" or "permutation (10000 seeded draws)". */
  method: string;
}

/** Float rounding slack when comparing a permuted statistic with the observed one. */
const TIE_SLACK = 1e-12;

/** H1: larger predicted values go with larger observed ones (rho > 0). */
export function spearmanPermutationTest(
  predicted: readonly number[],
  observed: readonly number[],
  permutations: number,
  rng: Rng,
): TestResult {
  const n = predicted.length;
  const rx = averageRanks(predicted);
  const ry = averageRanks(observed);
  const rho = pearson(rx, ry);
  if (Number.isNaN(rho)) return { p_value: NaN, method: 'undefined: a side has no spread' };
  const atLeast = (r: number) => r >= rho - TIE_SLACK;
  if (n <= EXACT_MAX_N) {
    let count = 0;
    let total = 0;
    forEachPermutation(ry, (perm) => {
      total++;
      if (atLeast(pearson(rx, perm))) count++;
    });
    return { p_value: count / total, method: `exact permutation (${total} pairings)` };
  }
  const perm = [...ry];
  let count = 0;
  for (let r = 0; r < permutations; r++) {
    rng.shuffle(perm);
    if (atLeast(pearson(rx, perm))) count++;
  }
  return {
    p_value: (1 + count) / (1 + permutations),
    method: `permutation (${permutations} seeded draws)`,
  };
}

/** H1: predictions come true more often than chance (1/2). */
export function signTest(hits: number, decided: number): TestResult {
  if (decided === 0) return { p_value: NaN, method: 'undefined: no decided pair' };
  // P(X >= hits) = sum_{k >= hits} C(decided, k) / 2^decided: exact in doubles while C stays below 2^53
  // (decided <= 55); in logs beyond 1000 pairs, where 2^decided leaves the double range.
  let p = 0;
  if (decided <= 1000) {
    let c = 1; // C(decided, k), built up from k = 0
    for (let k = 0; k <= decided; k++) {
      if (k >= hits) p += c;
      c = (c * (decided - k)) / (k + 1);
    }
    p /= 2 ** decided;
  } else {
    for (let k = hits; k <= decided; k++) p += Math.exp(logChoose(decided, k) - decided * Math.LN2);
  }
  return { p_value: Math.min(1, p), method: `one-sided sign test (${decided} pairs)` };
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Heap's algorithm: calls visit with every ordering of items (the same array, permuted in place). */
function forEachPermutation(items: readonly number[], visit: (perm: readonly number[]) => void): void {
  const a = [...items];
  const c = new Array<number>(a.length).fill(0);
  visit(a);
  for (let i = 1; i < a.length;) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      visit(a);
      c[i]!++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
}
