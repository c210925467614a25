// One-sample (paired) t-test over seeds: is the mean of the differences d_1..d_n above 0?
//   t = mean / (sd / sqrt(n)), sd with the n-1 denominator, df = n - 1;
//   one-sided p = P(T_df >= t) = I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0 (1 minus that for t < 0),
//   I the regularised incomplete beta function; 95% interval mean +- q sd / sqrt(n), q the 0.975 quantile.
// The incomplete beta follows the continued fraction of Numerical Recipes (3rd ed., s.6.4), evaluated
// with the modified Lentz method; the quantile inverts the CDF by bisection.
import type { TestResult } from './rank-tests.js';

export interface PairedTTest extends TestResult {
  n: number;
  mean: number;
  /** 95% two-sided t interval of the mean; null below 2 values or without spread. */
  interval: [number, number] | null;
}

/** Differences (e.g. aligned minus base speed, one per seed); H1: their mean is above 0. */
export function pairedTTest(differences: readonly number[]): PairedTTest {
  const n = differences.length;
  const mean = differences.reduce((s, x) => s + x, 0) / n;
  if (n < 2 || !differences.every(Number.isFinite))
    return {
      n,
      mean,
      interval: null,
      p_value: NaN,
      method: `undefined: ${n < 2 ? 'fewer than 2 seeds' : 'a value is not finite'}`,
    };
  if (differences.every((x) => x === differences[0]))
    return { n, mean, interval: null, p_value: NaN, method: 'undefined: the differences do not vary' };
  const sd = Math.sqrt(differences.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const df = n - 1;
  const se = sd / Math.sqrt(n);
  const t = mean / se;
  const q = studentTQuantile(0.975, df);
  return {
    n,
    mean,
    interval: [mean - q * se, mean + q * se],
    p_value: studentTUpperTail(t, df),
    method: `one-sided paired t-test (${n} seeds, ${df} df)`,
  };
}

/** P(T_df <= t). */
export function studentTCdf(t: number, df: number): number {
  return 1 - studentTUpperTail(t, df);
}

/** P(T_df >= t), computed directly so that small tails keep their precision. */
export function studentTUpperTail(t: number, df: number): number {
  const tail = regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5) / 2; // P(T >= |t|)
  return t >= 0 ? tail : 1 - tail;
}

/** The p-quantile of T_df, by bisection on the CDF (to 1e-12). */
export function studentTQuantile(p: number, df: number): number {
  let lo = -1e3;
  let hi = 1e3;
  while (hi - lo > 1e-12 * Math.max(1, Math.abs(lo))) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** I_x(a, b). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(x, a, b)) / a
    : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** ln Gamma(x), x > 0: Lanczos approximation (g = 7, 9 terms), relative error below 1e-15. */
function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = c[0]!;
  for (let i = 1; i < g + 2; i++) s += c[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}
