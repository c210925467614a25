// Moments of one side (positive or negative) of one group's embeddings (theory.md section 3):
// mean, covariance trace and largest covariance eigenvalue, without forming the d x d covariance for
// large d. Means are two-pass in float64; the centred rows are kept in float32 for the BLAS products.
import { kernels } from '../tensor/kernels/index.js';

export interface SideMoments {
  n: number;
  /** mu: [d], float64. */
  mean: Float64Array;
  /** tr Cov, Cov = Xc^T Xc / (n - 1) (sample covariance). */
  trace: number;
  /** ||Cov||_op: top eigenvalue of the Gram of Xc (topEigenvalueOfGram chooses [n, n], [d, d] or implicit). */
  topEigenvalue: number;
  /** Xc = X - 1 mu^T: [n, d], float32. */
  centred: Float32Array;
}

/** Mean of the rows of x: [n, d] -> [d], accumulated in float64. */
export function rowMean(x: Float32Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const off = i * d;
    for (let k = 0; k < d; k++) mean[k]! += x[off + k]!;
  }
  for (let k = 0; k < d; k++) mean[k]! /= n;
  return mean;
}

/** x: [n, d] rows of one side; n >= 2 (a covariance needs two rows). */
export function sideMoments(x: Float32Array, n: number, d: number): SideMoments {
  if (n < 2) throw new Error(`sideMoments: need at least 2 rows for a covariance, got ${n}`);
  const mean = rowMean(x, n, d);
  const centred = new Float32Array(n * d);
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const off = i * d;
    for (let k = 0; k < d; k++) {
      const v = x[off + k]! - mean[k]!;
      centred[off + k] = v;
      sumSq += v * v;
    }
  }
  const trace = sumSq / (n - 1);
  const topEigenvalue = topEigenvalueOfGram(centred, n, d) / (n - 1);
  return { n, mean, trace, topEigenvalue, centred };
}

/**
 * Side length m = min(n, d) up to which the top eigenvalue comes from the explicit [m, m] Gram matrix.
 * Cost model (native kernels, 2 cores), in units of n d: forming the Gram is one compute-bound sgemm of
 * 2 n d m flops at ~200 GFLOP/s, m / 100 units; the implicit Lanczos streams the [n, d] float32 rows twice
 * per step (4 n d flops, memory-bound at ~10 GFLOP/s), 0.4 units per step, 1 to LANCZOS_MAX_STEPS steps
 * (few on a decaying spectrum, all 60 on a flat one). At m <= 1024 the Gram costs at most ~25 implicit
 * steps, and its own Lanczos steps on the [m, m] matrix are negligible; measured at n = 500, d = 4096:
 * 17 ms against 40-55 ms for 60 implicit steps. Beyond that the implicit operator is kept: it never
 * forms a d x d matrix for large d.
 */
export const GRAM_MAX_SIDE = 1024;

/**
 * Largest eigenvalue of A^T A for a: [n, d] (= that of A A^T: they share their nonzero spectrum).
 * m = min(n, d) <= GRAM_MAX_SIDE: one sgemm forms the smaller Gram, A A^T: [n, n] when n <= d (transB),
 * else A^T A: [d, d] (transA), and Lanczos runs on that small matrix. Otherwise Lanczos on the implicit
 * operator v -> A^T (A v), never forming a d x d matrix. See GRAM_MAX_SIDE for the cost rule.
 */
export function topEigenvalueOfGram(a: Float32Array, n: number, d: number): number {
  return Math.min(n, d) <= GRAM_MAX_SIDE
    ? topEigenvalueViaExplicitGram(a, n, d)
    : topEigenvalueViaImplicitGram(a, n, d);
}

/**
 * Top eigenvalue of the explicit Gram of a: [n, d]: [m, m] with m = min(n, d), one sgemm. Lanczos then
 * applies the small matrix with an sgemv-shaped sgemm (float32 products, as the implicit operator's);
 * its basis, reorthogonalisation and tridiagonal eigenvalue stay in float64.
 */
export function topEigenvalueViaExplicitGram(a: Float32Array, n: number, d: number): number {
  const k = kernels();
  const m = Math.min(n, d);
  const gram = new Float32Array(m * m);
  if (n <= d)
    k.sgemm(false, true, n, n, d, 1, a, a, 0, gram); // A A^T: [n, n]
  else k.sgemm(true, false, d, d, n, 1, a, a, 0, gram); // A^T A: [d, d]
  // The product is symmetric up to the order of float32 summation; average the two halves so Lanczos
  // sees an exactly symmetric operator.
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const s = 0.5 * (gram[i * m + j]! + gram[j * m + i]!);
      gram[i * m + j] = s;
      gram[j * m + i] = s;
    }
  }
  const v32 = new Float32Array(m);
  const gv = new Float32Array(m);
  return largestEigenvalueLanczos(m, (v, out) => {
    for (let i = 0; i < m; i++) v32[i] = v[i]!;
    k.sgemm(false, false, m, 1, m, 1, gram, v32, 0, gv);
    for (let i = 0; i < m; i++) out[i] = gv[i]!;
  });
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

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

function scale(a: Float64Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i]! *= s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}
