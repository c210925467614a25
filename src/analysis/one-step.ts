// The first SGD step of last-layer DPO, in closed form (theory.md section 2).
//
// Derivation. Logits W g, W: [V, d]; u = e_Yes - e_No (||u||^2 = 2); s_i = +1 when the preferred answer
// is Yes, -1 when No. The margin is linear in W: m_i = beta s_i u^T (W - W0) g_i, so m_i = 0 at W0 and
// dL/dm_i = -sigmoid(-m_i)/N = -1/(2N) for L = mean_i -log sigmoid(m_i). With dm_i/dW = beta s_i u g_i^T:
//   dL/dW at W0 = -(beta/2) * u * (mean_j s_j g_j)^T.
// One SGD step W1 = W0 - lr dL/dW changes the margin of any example i (trained on or not) to
//   m_i(W1) = beta s_i u^T (W1 - W0) g_i = (lr beta^2 / 2) ||u||^2 s_i g_i . mean_j s_j g_j
//           = lr * beta^2 * s_i g_i . v,   v = mean_{j in batch} s_j g_j.
// Exact, not a first-order approximation, because m is linear in W. For one balanced group
// v = (mu+ - mu-)/2, giving theory.md's (lr beta^2 / 2) s_i (mu+ - mu-) . g_i.
import { rowDots } from './vectors.js';

export interface OneStepInput {
  /** g: [N, d] final hidden states. */
  embeddings: Float32Array;
  d: number;
  /** s_i in {+1, -1}: [N]. */
  labels: ArrayLike<number>;
  lr: number;
  beta: number;
  /** v = mean_{j in batch} s_j g_j: [d], the gradient's direction (gradientDirection). */
  v: Float64Array;
}

/**
 * v = sum_b w_b c_b: [d], float64, from signed means c_b = mean_{i in b} s_i g_i: [d] and shares w_b = n_b / N
 * of the batch: the mean of s_j g_j over the whole batch, without holding its rows. A batch of single rows
 * (c_j = s_j g_j, w_j = 1/N) gives the same v from the rows themselves.
 */
export function gradientDirection(signedMeans: readonly Float64Array[], weights: readonly number[]): Float64Array {
  const v = new Float64Array(signedMeans[0]?.length ?? 0);
  signedMeans.forEach((c, b) => {
    for (let k = 0; k < v.length; k++) v[k]! += weights[b]! * c[k]!;
  });
  return v;
}

/** Reward margins m_i = lr beta^2 s_i g_i . v of every row after one SGD step from W0: [N]. */
export function predictOneStepMargins(input: OneStepInput): Float64Array {
  const { embeddings, d, labels, lr, beta, v } = input;
  const n = labels.length;
  if (embeddings.length !== n * d)
    throw new Error(`predictOneStepMargins: embeddings hold ${embeddings.length} values, expected ${n} x ${d}`);
  const out = rowDots(embeddings, n, d, v);
  for (let i = 0; i < n; i++) out[i] = lr * beta * beta * labels[i]! * out[i]!;
  return out;
}

export interface OneStepAccuracy {
  /** Fraction of the group's rows with z_i = s_i g_i . v > 0, i.e. reward accuracy after one full-batch step. */
  predicted: number;
  /**
   * Cantelli's (one-sided Chebyshev) inequality on z over the group's rows with their measured mean m and
   * variance sigma^2: P(z <= 0) <= sigma^2 / (sigma^2 + m^2) when m > 0, so accuracy >= m^2 / (sigma^2 + m^2).
   * 0 when m <= 0 (no guarantee).
   */
  cantelliLowerBound: number;
}

export const ACCURACY_BOUND =
  "Cantelli's inequality on z_i = s_i g_i . v (v = mean over the mix of s_j g_j): accuracy >= m^2/(m^2 + sigma^2), m and sigma^2 the group's mean and variance of z";

/** z: the group's projections s_i g_i . v. */
export function oneStepAccuracy(z: ArrayLike<number>): OneStepAccuracy {
  const n = z.length;
  let mean = 0;
  let positive = 0;
  for (let i = 0; i < n; i++) {
    mean += z[i]!;
    if (z[i]! > 0) positive++;
  }
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (z[i]! - mean) ** 2;
  variance /= n; // population variance: the inequality is applied to the empirical distribution itself
  const bound = mean > 0 ? (mean * mean) / (mean * mean + variance) : 0;
  return { predicted: positive / n, cantelliLowerBound: bound };
}
