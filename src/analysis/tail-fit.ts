// Tail of a one-dimensional sample (theory.md section 3: alpha-subexponential projections).
// Method ("Weibull-tail regression"): assume P(|Z| > t) ~ exp(-(t/K)^alpha); then
// log(-log P(|Z| > t)) = alpha log t - alpha log K. With |z| sorted decreasingly, the k-th largest value
// t_k has empirical survival k/(n+1); least squares of log(-log(k/(n+1))) on log t_k over the upper
// half of the sample (k/(n+1) <= 1/2, k >= 2 so the single extreme point does not dominate) gives
// alpha (the slope) and K = exp(-intercept / alpha). alpha = 2: sub-Gaussian; alpha = 1: sub-exponential
// (a Laplace sample gives alpha = 1 and K = its scale b exactly in expectation).

export interface TailFit {
  alpha: number;
  /** In the units of the sample. */
  K: number;
  /** Number of order statistics used in the regression. */
  points: number;
}

export const TAIL_METHOD =
  'Weibull-tail regression: least squares of log(-log S) on log t over the upper half of |z| (S = k/(n+1) for the k-th largest), P(|Z|>t) ~ exp(-(t/K)^alpha)';

/** Needs at least 8 values; returns null when too few points or no spread. */
export function fitTail(values: ArrayLike<number>): TailFit | null {
  const abs = Float64Array.from(values, Math.abs).sort().reverse();
  const n = abs.length;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 2; k <= n; k++) {
    const survival = k / (n + 1);
    if (survival > 0.5) break;
    const t = abs[k - 1]!;
    if (!(t > 0)) break;
    xs.push(Math.log(t));
    ys.push(Math.log(-Math.log(survival)));
  }
  if (n < 8 || xs.length < 3) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  if (!(sxx > 0)) return null;
  const alpha = sxy / sxx;
  const intercept = my - alpha * mx;
  return { alpha, K: Math.exp(-intercept / alpha), points: xs.length };
}
