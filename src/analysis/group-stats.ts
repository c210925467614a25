// Per-group distinguishability quantities (theory.md section 3) from the group's embeddings.
import { norm, sideMoments, type SideMoments } from './side-moments.js';
import { fitTail, type TailFit } from './tail-fit.js';

/** One group's rows: x: [n, d] float32, labels[i] = +1 (preferred answer on the positive side) or -1. */
export interface GroupRows {
  group: string;
  x: Float32Array;
  labels: Int8Array;
  d: number;
}

export interface GroupStats {
  group: string;
  nPos: number;
  nNeg: number;
  /** Delta = ||mu+ - mu-||. */
  delta: number;
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

/** Rows of one side, copied out: [count, d]. */
export function sideRows(rows: GroupRows, label: 1 | -1): { x: Float32Array; n: number } {
  const { x, labels, d } = rows;
  let n = 0;
  for (const l of labels) if (l === label) n++;
  const out = new Float32Array(n * d);
  let r = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === label) out.set(x.subarray(i * d, (i + 1) * d), r++ * d);
  }
  return { x: out, n };
}

/** Throws if a side has fewer than 2 rows (no covariance); callers report such groups and skip them. */
export function groupStats(rows: GroupRows): GroupStats {
  const { d } = rows;
  const pos = sideRows(rows, 1);
  const neg = sideRows(rows, -1);
  const plus = sideMoments(pos.x, pos.n, d);
  const minus = sideMoments(neg.x, neg.n, d);
  const n = pos.n + neg.n;
  const meanGap = new Float64Array(d);
  const signedMean = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    meanGap[k] = plus.mean[k]! - minus.mean[k]!;
    signedMean[k] = (pos.n * plus.mean[k]! - neg.n * minus.mean[k]!) / n;
  }
  const delta = norm(meanGap);
  const concentration = Math.max(plus.topEigenvalue, minus.topEigenvalue);
  const projections =
    delta > 0 ? [...projectCentred(plus, meanGap, delta, d), ...projectCentred(minus, meanGap, delta, d)] : [];
  const varSum = sampleVariance(projections.slice(0, pos.n)) + sampleVariance(projections.slice(pos.n));
  return {
    group: rows.group,
    nPos: pos.n,
    nNeg: neg.n,
    delta,
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
  const out = new Array<number>(side.n);
  for (let i = 0; i < side.n; i++) {
    let s = 0;
    const off = i * d;
    for (let k = 0; k < d; k++) s += side.centred[off + k]! * direction[k]!;
    out[i] = s / length;
  }
  return out;
}

/** Unbiased variance (the projections are already centred, but recentre for exactness). */
function sampleVariance(v: readonly number[]): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
}
