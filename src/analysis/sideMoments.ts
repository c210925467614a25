// Moments of one side (positive or negative) of one group's embeddings (theory.md section 3):
// mean, covariance trace and largest covariance eigenvalue, without ever forming the d x d covariance.
// Means are two-pass in float64; the centred rows are kept in float32 for the BLAS products.
import { kernels } from '../tensor/kernels/index.js';

export interface SideMoments {
  n: number;
  /** mu: [d], float64. */
  mean: Float64Array;
  /** tr Cov, Cov = Xc^T Xc / (n - 1) (sample covariance). */
  trace: number;
  /** ||Cov||_op, by Lanczos on Xc^T Xc applied as Xc^T (Xc v). */
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

const LANCZOS_MAX_STEPS = 60;
const LANCZOS_REL_TOL = 1e-7;

/**
 * Largest eigenvalue of A^T A for a: [n, d], by Lanczos with full reorthogonalisation; each step costs
 * two sgemv-shaped sgemms (A v: [n], A^T (A v): [d]). Stops when the top Ritz value is stable.
 */
export function topEigenvalueOfGram(a: Float32Array, n: number, d: number): number {
  const k = kernels();
  const steps = Math.min(LANCZOS_MAX_STEPS, n, d);
  const basis: Float64Array[] = [];
  const alphas: number[] = [];
  const betas: number[] = [];
  // A deterministic start vector with weight on every coordinate.
  let q = new Float64Array(d);
  for (let i = 0; i < d; i++) q[i] = 1 + ((i * 2654435761) % 1000) / 1000;
  scale(q, 1 / norm(q));
  const q32 = new Float32Array(d);
  const av = new Float32Array(n);
  const atav = new Float32Array(d);
  let previous = -Infinity;
  let stable = 0;
  let top = 0;
  for (let j = 0; j < steps; j++) {
    basis.push(q);
    for (let i = 0; i < d; i++) q32[i] = q[i]!;
    k.sgemm(false, false, n, 1, d, 1, a, q32, 0, av);
    k.sgemm(true, false, d, 1, n, 1, a, av, 0, atav);
    const w = Float64Array.from(atav);
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
