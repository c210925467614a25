// Moments of one side (positive or negative) of one group's embeddings (theory.md section 3):
// mean, covariance trace and largest covariance eigenvalue, without forming the d x d covariance for
// large d. Means are two-pass in float64; the centred rows are kept in float32 for the BLAS products.
import { kernels } from '../tensor/kernels/index.js';
import { dot, norm } from './vectors.js';

export interface SideMoments {
  n: number;
  /** mu: [d], float64. */
  mean: Float64Array;
  /** tr Cov, Cov = Xc^T Xc / (n - 1) (sample covariance). */
  trace: number;
  /** ||Cov||_op: top eigenvalue of the Gram of Xc (topEigenvalueOfGram chooses [n, n], [d, d] or implicit). */
  topEigenvalue: number;
  /** Xc = X - 1 mu^T: [n, d], float32 (a view of the caller's buffer). */
  centred: Float32Array;
}

/** One group's rows: x: [n, d] float32, labels[i] = +1 (preferred answer on the positive side) or -1. */
export interface GroupRows {
  group: string;
  x: Float32Array;
  labels: Int8Array;
  d: number;
}

/** Row counts and means of both sides, mu+ and mu-: [d] each, from one float64 pass over x: [n, d]. */
export function sideMeans(rows: GroupRows): { nPos: number; nNeg: number; plus: Float64Array; minus: Float64Array } {
  const { x, labels, d } = rows;
  const plus = new Float64Array(d);
  const minus = new Float64Array(d);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) {
    const sum = labels[i] === 1 ? plus : minus;
    if (sum === plus) nPos++;
    const off = i * d;
    for (let k = 0; k < d; k++) sum[k]! += x[off + k]!;
  }
  const nNeg = labels.length - nPos;
  for (let k = 0; k < d; k++) {
    plus[k]! /= nPos;
    minus[k]! /= nNeg;
  }
  return { nPos, nNeg, plus, minus };
}

/**
 * Centred moments of one side (label) whose n rows have mean `mean`: the rows are copied out and centred
 * in one pass into out: [>= n, d] (reused across groups; the result's `centred` is a view of it).
 * n >= 2 (a covariance needs two rows).
 */
export function sideMoments(
  rows: GroupRows,
  label: 1 | -1,
  n: number,
  mean: Float64Array,
  out: Float32Array,
): SideMoments {
  if (n < 2) throw new Error(`sideMoments: need at least 2 rows for a covariance, got ${n}`);
  const { x, labels, d } = rows;
  const centred = out.subarray(0, n * d);
  let sumSq = 0;
  let r = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== label) continue;
    const from = i * d;
    const to = r++ * d;
    for (let k = 0; k < d; k++) {
      const v = x[from + k]! - mean[k]!;
      centred[to + k] = v;
      sumSq += v * v;
    }
  }
  const trace = sumSq / (n - 1);
  const topEigenvalue = topEigenvalueOfGram(centred, n, d) / (n - 1);
  return { n, mean, trace, topEigenvalue, centred };
}

/**
 * Side length m = min(n, d) up to which the top eigenvalue comes from the explicit [m, m] Gram matrix.
 * Cost model (native kernels, 2 cores), in units of n d: forming the Gram is compute-bound, at most
 * 2 n d m flops at ~200 GFLOP/s, m / 100 units (symmetricGram does about 60% of that at m = 500); the implicit Lanczos streams the [n, d] float32 rows twice
 * per step (4 n d flops, memory-bound at ~10 GFLOP/s), 0.4 units per step, 1 to LANCZOS_MAX_STEPS steps
 * (few on a decaying spectrum, all 60 on a flat one). At m <= 1024 the Gram costs at most ~25 implicit
 * steps, and its own Lanczos steps on the [m, m] matrix are negligible; measured at n = 500, d = 4096:
 * 17 ms against 40-55 ms for 60 implicit steps. Beyond that the implicit operator is kept: it never
 * forms a d x d matrix for large d.
 */
export const GRAM_MAX_SIDE = 1024;

/**
 * Largest eigenvalue of A^T A for a: [n, d] (= that of A A^T: they share their nonzero spectrum).
 * m = min(n, d) <= GRAM_MAX_SIDE: symmetricGram forms the smaller Gram, A A^T: [n, n] when n <= d, else
 * A^T A: [d, d], and Lanczos runs on that small matrix. Otherwise Lanczos on the implicit
 * operator v -> A^T (A v), never forming a d x d matrix. See GRAM_MAX_SIDE for the cost rule.
 */
export function topEigenvalueOfGram(a: Float32Array, n: number, d: number): number {
  return Math.min(n, d) <= GRAM_MAX_SIDE
    ? topEigenvalueViaExplicitGram(a, n, d)
    : topEigenvalueViaImplicitGram(a, n, d);
}

/**
 * Top eigenvalue of the explicit Gram of a: [n, d]: [m, m] with m = min(n, d) (symmetricGram). Lanczos then
 * applies the small matrix with an sgemv-shaped sgemm (float32 products, as the implicit operator's);
 * its basis, reorthogonalisation and tridiagonal eigenvalue stay in float64.
 */
export function topEigenvalueViaExplicitGram(a: Float32Array, n: number, d: number): number {
  const k = kernels();
  const m = Math.min(n, d);
  const gram = symmetricGram(a, n, d);
  const v32 = new Float32Array(m);
  const gv = new Float32Array(m);
  return largestEigenvalueLanczos(m, (v, out) => {
    for (let i = 0; i < m; i++) v32[i] = v[i]!;
    k.sgemm(false, false, m, 1, m, 1, gram, v32, 0, gv);
    for (let i = 0; i < m; i++) out[i] = gv[i]!;
  });
}

/** Rows (or columns) per block of symmetricGram: large enough for an efficient sgemm, small enough to skip most of the upper triangle. */
const GRAM_BLOCK = 128;

/**
 * The smaller Gram of a: [n, d], exactly symmetric: A A^T: [n, n] when n <= d (blocks of rows), else
 * A^T A: [d, d] (blocks of columns, read in place with ld = d). Like BLAS syrk it forms only the blocks on
 * and below the diagonal, one sgemm each (10 of 16 blocks at m = 500), then mirrors them; the diagonal
 * blocks are symmetric up to the order of float32 summation, so their two halves are averaged.
 */
export function symmetricGram(a: Float32Array, n: number, d: number): Float32Array {
  const k = kernels();
  const byRows = n <= d;
  const m = byRows ? n : d;
  const depth = byRows ? d : n;
  const gram = new Float32Array(m * m);
  for (let i0 = 0; i0 < m; i0 += GRAM_BLOCK) {
    const mi = Math.min(GRAM_BLOCK, m - i0);
    const ai = a.subarray(byRows ? i0 * d : i0);
    for (let j0 = 0; j0 <= i0; j0 += GRAM_BLOCK) {
      const mj = Math.min(GRAM_BLOCK, m - j0);
      const aj = a.subarray(byRows ? j0 * d : j0);
      // block (i, j): [mi, mj] at gram[i0, j0] (ldc = m) = A_i A_j^T (rows) or A_i^T A_j (columns)
      k.sgemmBatched(!byRows, byRows, 1, mi, mj, depth, 1, ai, d, 0, aj, d, 0, 0, gram.subarray(i0 * m + j0), m, 0);
    }
  }
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const sameBlock = Math.floor(i / GRAM_BLOCK) === Math.floor(j / GRAM_BLOCK);
      gram[i * m + j] = sameBlock ? 0.5 * (gram[i * m + j]! + gram[j * m + i]!) : gram[j * m + i]!;
      gram[j * m + i] = gram[i * m + j]!;
    }
  }
  return gram;
}

/** Top eigenvalue of A^T A applied implicitly as A^T (A v): two sgemv-shaped sgemms per step over a: [n, d]. */
export function topEigenvalueViaImplicitGram(a: Float32Array, n: number, d: number): number {
  const k = kernels();
  const v32 = new Float32Array(d);
  const av = new Float32Array(n);
  const atav = new Float32Array(d);
  return largestEigenvalueLanczos(
    d,
    (v, out) => {
      for (let i = 0; i < d; i++) v32[i] = v[i]!;
      k.sgemm(false, false, n, 1, d, 1, a, v32, 0, av);
      k.sgemm(true, false, d, 1, n, 1, a, av, 0, atav);
      for (let i = 0; i < d; i++) out[i] = atav[i]!;
    },
    Math.min(n, d),
  );
}

const LANCZOS_MAX_STEPS = 60;
const LANCZOS_REL_TOL = 1e-7;

/**
 * Largest eigenvalue of a symmetric positive semi-definite operator of size dim, given as
 * apply(v, out): out = M v (v, out: [dim], float64), by Lanczos with full reorthogonalisation.
 * rank bounds the number of useful steps (Krylov space dimension). Stops when the top Ritz value is stable.
 */
export function largestEigenvalueLanczos(
  dim: number,
  apply: (v: Float64Array, out: Float64Array) => void,
  rank = dim,
): number {
  const steps = Math.min(LANCZOS_MAX_STEPS, dim, rank);
  const basis: Float64Array[] = [];
  const alphas: number[] = [];
  const betas: number[] = [];
  // A deterministic start vector with weight on every coordinate.
  let q = new Float64Array(dim);
  for (let i = 0; i < dim; i++) q[i] = 1 + ((i * 2654435761) % 1000) / 1000;
  scale(q, 1 / norm(q));
  let previous = -Infinity;
  let stable = 0;
  let top = 0;
  for (let j = 0; j < steps; j++) {
    basis.push(q);
    const w = new Float64Array(dim);
    apply(q, w);
    const alpha = dot(w, q);
    alphas.push(alpha);
    // Full reorthogonalisation (twice, "twice is enough"): float32 products lose orthogonality fast.
    for (let pass = 0; pass < 2; pass++) {
      for (const b of basis) axpy(-dot(w, b), b, w);
    }
    top = largestEigenvalueTridiagonal(alphas, betas);
    if (Math.abs(top - previous) <= LANCZOS_REL_TOL * Math.abs(top)) {
      if (++stable >= 2) break;
    } else stable = 0;
    previous = top;
    const beta = norm(w);
    if (beta <= 1e-12 * Math.max(Math.abs(top), 1e-300)) break; // invariant subspace found: exact
    betas.push(beta);
    scale(w, 1 / beta);
    q = w;
  }
  return top;
}

/** Largest eigenvalue of the symmetric tridiagonal matrix (diagonal a[0..m), off-diagonal b[0..m-1)), by Sturm bisection. */
export function largestEigenvalueTridiagonal(a: readonly number[], b: readonly number[]): number {
  const m = a.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < m; i++) {
    const r = (i > 0 ? Math.abs(b[i - 1]!) : 0) + (i < m - 1 ? Math.abs(b[i]!) : 0);
    lo = Math.min(lo, a[i]! - r);
    hi = Math.max(hi, a[i]! + r);
  }
  // countBelow(x) = number of eigenvalues < x (Sturm sequence of the LDL^T pivots).
  const countBelow = (x: number): number => {
    let count = 0;
    let pivot = 1;
    for (let i = 0; i < m; i++) {
      const off = i > 0 ? b[i - 1]! * b[i - 1]! : 0;
      pivot = a[i]! - x - (i > 0 ? off / pivot : 0);
      if (pivot === 0) pivot = -1e-300;
      if (pivot < 0) count++;
    }
    return count;
  };
  for (let iter = 0; iter < 200 && hi - lo > 1e-15 * Math.max(Math.abs(lo), Math.abs(hi), 1e-300); iter++) {
    const mid = 0.5 * (lo + hi);
    if (countBelow(mid) === m) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

function scale(a: Float64Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i]! *= s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}
