// Per-group distinguishability quantities (theory.md section 3) from the group's embeddings.
import { sideMeans, sideMoments, type GroupRows, type SideMoments } from './side-moments.js';
import { firstNonFinite } from '../util/finite.js';
import { fitTail, type TailFit } from './tail-fit.js';
import { norm, rowDots } from './vectors.js';

export type { GroupRows } from './side-moments.js';

export interface GroupStats {
  group: string;
  nPos: number;
  nNeg: number;
  /** Delta = ||mu+ - mu-|| (plug-in: biased upward by the noise floor, see deltaUnbiased). */
  delta: number;
  /**
   * sqrt(max(0, ||mu+ - mu-||^2 - tr(S+)/n+ - tr(S-)/n-)), S the sample covariances (n-1): the square root
   * of the unbiased estimate of Delta^2 (theory.md s.7), since E||mu+ - mu-||^2 = Delta^2 + tr(Cov+)/n+ + tr(Cov-)/n-.
   */
  deltaUnbiased: number;
  /** max(||Cov+||_op, ||Cov-||_op). */
  concentration: number;
  /** max(tr Cov+, tr Cov-). */
  trace: number;
  deltaOverSqrtConcentration: number;
  /**
   * 1-D Fisher criterion along u = d_b / ||d_b||: (u . (mu+ - mu-))^2 / (u^T Cov+ u + u^T Cov- u)
   * = Delta^2 / (var+ + var-) of the projections on u.
   */
  fisher: number;
  /** Tail of the projections <u, g - mu_side> of both sides pooled; null if too few rows. */
  tail: TailFit | null;
  /** d_b = mu+ - mu-: [d]. */
  meanGap: Float64Array;
  /** c_b = mean_i s_i g_i = (n+ mu+ - n- mu-) / n: [d]; the group's share of the last-layer gradient (theory.md s.2). */
  signedMean: Float64Array;
}

/**
 * Centred rows of both sides, reused from group to group (the largest cost of a pass is otherwise
 * allocating and collecting two [n, d] float32 buffers per group).
 */
export class CentredBuffers {
  private buffers: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];

  /** Side 0 (positive) or 1 (negative), at least `size` floats. */
  side(which: 0 | 1, size: number): Float32Array {
    if (this.buffers[which].length < size) this.buffers[which] = new Float32Array(size);
    return this.buffers[which];
  }
}

/**
 * Throws if a side has fewer than 2 rows (no covariance); callers report such groups and skip them.
 * The side means read every value, in float64 (a sum of finite float32 values cannot overflow), so a NaN
 * or infinite value shows in them: then `refuseNonFinite` (which names the row) is called and must throw.
 */
export function groupStats(
  rows: GroupRows,
  buffers = new CentredBuffers(),
  refuseNonFinite: (rows: GroupRows) => void = () => {},
): GroupStats {
  const { d } = rows;
  const means = sideMeans(rows);
  if (firstNonFinite(means.plus) >= 0 || firstNonFinite(means.minus) >= 0) {
    refuseNonFinite(rows);
    throw new Error(`groupStats: group "${rows.group}" holds a NaN or infinite value`);
  }
  const plus = sideMoments(rows, 1, means.nPos, means.plus, buffers.side(0, means.nPos * d));
  const minus = sideMoments(rows, -1, means.nNeg, means.minus, buffers.side(1, means.nNeg * d));
  const n = plus.n + minus.n;
  const meanGap = new Float64Array(d);
  const signedMean = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    meanGap[k] = plus.mean[k]! - minus.mean[k]!;
    signedMean[k] = (plus.n * plus.mean[k]! - minus.n * minus.mean[k]!) / n;
  }
  const delta = norm(meanGap);
  const deltaSquaredUnbiased = delta * delta - plus.trace / plus.n - minus.trace / minus.n;
  const concentration = Math.max(plus.topEigenvalue, minus.topEigenvalue);
  const projections =
    delta > 0 ? [...projectCentred(plus, meanGap, delta, d), ...projectCentred(minus, meanGap, delta, d)] : [];
  const varSum = sampleVariance(projections.slice(0, plus.n)) + sampleVariance(projections.slice(plus.n));
  return {
    group: rows.group,
    nPos: plus.n,
    nNeg: minus.n,
    delta,
    deltaUnbiased: Math.sqrt(Math.max(0, deltaSquaredUnbiased)),
    concentration,
    trace: Math.max(plus.trace, minus.trace),
    // No gap means nothing to separate: 0, even when the spread is 0 too (identical embeddings).
    deltaOverSqrtConcentration: delta === 0 ? 0 : concentration > 0 ? delta / Math.sqrt(concentration) : Infinity,
    fisher: delta === 0 ? 0 : varSum > 0 ? (delta * delta) / varSum : Infinity,
    tail: projections.length ? fitTail(projections) : null,
    meanGap,
    signedMean,
  };
}

/** <u, g_i - mu> for each centred row, u = direction / length. */
function projectCentred(side: SideMoments, direction: Float64Array, length: number, d: number): number[] {
  return Array.from(rowDots(side.centred, side.n, d, direction), (s) => s / length);
}

/** Unbiased variance (the projections are already centred, but recentre for exactness). */
function sampleVariance(v: readonly number[]): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
}
