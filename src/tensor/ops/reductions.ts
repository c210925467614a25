// Sums and means. Accumulation in float64, so long reductions (a loss over a batch) lose nothing.
import { Tensor } from '../tensor.js';
import { record, gradOf } from '../autograd.js';

/** Sum of all elements -> scalar []. */
export function sum(x: Tensor): Tensor {
  return scaledTotal(x, 1);
}

/** Mean of all elements -> scalar []. */
export function mean(x: Tensor): Tensor {
  if (x.size === 0) throw new Error(`mean: ${x.describe()} is empty`);
  return scaledTotal(x, 1 / x.size);
}

/** c * sum(x) -> scalar []; every element's gradient is c * dy. */
function scaledTotal(x: Tensor, c: number): Tensor {
  const X = x.data;
  let s = 0;
  for (let i = 0; i < X.length; i++) s += X[i]!;
  return record(Tensor.scalar(s * c), [x], (g) => {
    const gx = gradOf(x)!;
    const d = g[0]! * c;
    for (let i = 0; i < gx.length; i++) gx[i]! += d;
  });
}

/** Sums over one axis (negative counts from the end), which is removed: [..., n, ...] -> [..., ...]. */
export function sumAxis(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!(Number.isInteger(a) && a >= 0 && a < x.rank))
    throw new Error(`sumAxis: axis ${axis} is out of range for ${x.describe()}`);
  const n = x.shape[a]!;
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const X = x.data;
  const acc = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const src = (o * n + j) * inner;
      for (let i = 0; i < inner; i++) acc[o * inner + i]! += X[src + i]!;
    }
  }
  const shape = [...x.shape.slice(0, a), ...x.shape.slice(a + 1)];
  return record(new Tensor(Float32Array.from(acc), shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < n; j++) {
        const dst = (o * n + j) * inner;
        for (let i = 0; i < inner; i++) gx[dst + i]! += g[o * inner + i]!;
      }
    }
  });
}

/** Sums over the last axis: [..., n] -> [...]. */
export function sumLastAxis(x: Tensor): Tensor {
  return sumAxis(x, -1);
}

/**
 * maskedSum(x [B, T], mask [B*T]) -> [B]: out[b] = sum_t x[b,t] * mask[b,t]
 * (response log-probs summed over response tokens, prompt and padding masked with 0).
 */
export function maskedSum(x: Tensor, mask: Float32Array): Tensor {
  if (x.rank !== 2) throw new Error(`maskedSum: ${x.describe()} must be [B, T]`);
  const [B, T] = x.shape as [number, number];
  if (mask.length !== x.size)
    throw new Error(`maskedSum: mask has ${mask.length} values, ${x.describe()} needs ${x.size}`);
  const X = x.data;
  const out = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += X[b * T + t]! * mask[b * T + t]!;
    out[b] = s;
  }
  return record(new Tensor(out, [B]), [x], (g) => {
    const gx = gradOf(x)!;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) gx[b * T + t]! += g[b]! * mask[b * T + t]!;
  });
}
