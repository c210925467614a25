// Seeded bootstrap resampling for the analysis: stratified by side within a group (n+ and n- fixed), so
// every replicate is a data set of the same shape as the real one.
import { kernels } from '../tensor/kernels/index.js';
import type { Rng } from '../util/rng.js';
import type { GroupRows } from './group-stats.js';

export interface GroupReplicates {
  /** Delta of each replicate: [R]. */
  deltas: Float64Array;
  /** c_b = mean_i s_i g_i of each replicate: [R, d], float32. */
  signedMeans: Float32Array;
}

/**
 * R replicates of one group. With pooled-centred rows xc = x - m (m = the group mean; centring keeps the
 * float32 products accurate), weights A: [2R, n] give, in one sgemm A @ xc: [2R, d],
 * rows 0..R-1: mu+* - mu-* (= d_b*, shift-invariant) and rows R..2R-1: c_b* - ((n+ - n-)/n) m.
 */
export function bootstrapGroup(rows: GroupRows, replicates: number, rng: Rng): GroupReplicates {
  const { x, labels, d } = rows;
  const n = labels.length;
  const pos: number[] = [];
  const neg: number[] = [];
  labels.forEach((l, i) => (l === 1 ? pos : neg).push(i));
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) m[k]! += x[i * d + k]!;
  for (let k = 0; k < d; k++) m[k]! /= n;
  const xc = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) xc[i * d + k] = x[i * d + k]! - m[k]!;
  const R = replicates;
  const a = new Float32Array(2 * R * n);
  for (let r = 0; r < R; r++) {
    for (const [side, sign] of [
      [pos, 1],
      [neg, -1],
    ] as const) {
      for (let t = 0; t < side.length; t++) {
        const i = side[rng.int(side.length)]!;
        a[r * n + i]! += sign / side.length;
        a[(R + r) * n + i]! += sign / n;
      }
    }
  }
  const out = new Float32Array(2 * R * d);
  kernels().sgemm(false, false, 2 * R, d, n, 1, a, xc, 0, out);
  const deltas = new Float64Array(R);
  const shift = (pos.length - neg.length) / n;
  const signedMeans = new Float32Array(R * d);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += out[r * d + k]! ** 2;
    deltas[r] = Math.sqrt(s);
    for (let k = 0; k < d; k++) signedMeans[r * d + k] = out[(R + r) * d + k]! + shift * m[k]!;
  }
  return { deltas, signedMeans };
}

/** The q-quantile (0..1) of the values, linear interpolation between order statistics. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The central 95% percentile interval. */
export function interval95(values: ArrayLike<number>): [number, number] {
  return [quantile(values, 0.025), quantile(values, 0.975)];
}

export const CENTRED_INTERVAL_METHOD =
  "bias-corrected percentile bootstrap: the 2.5% and 97.5% percentiles of the replicates, shifted by (estimate - the replicates' median), i.e. [e - (median - q2.5), e + (q97.5 - median)]; it contains its estimate e by construction, also where the replicates are biased away from it (a plain percentile interval of the plug-in Delta in high dimension adds the noise floor tr(S+)/n+ + tr(S-)/n- a second time and can miss its own estimate, theory.md s.7)";

/**
 * The 95% interval of CENTRED_INTERVAL_METHOD around `estimate`: the percentile interval of the
 * replicates moved so that their median lands on the estimate. The shape (the two tails' widths) comes
 * from the replicates, the location from the estimate, so estimate is in [lo, hi] whatever the replicates' bias.
 */
export function centredInterval95(values: ArrayLike<number>, estimate: number): [number, number] {
  const median = quantile(values, 0.5);
  const [lo, hi] = interval95(values);
  return [estimate - (median - lo), estimate + (hi - median)];
}
