// Elementwise nonlinearities. GELU and SwiGLU run through the fused kernels; the rest are short
// pointwise ops (elementwise.ts). Each backward uses the forward output where that is cheaper
// (exp, sigmoid, tanh).
import { Tensor, uninitialisedFloats } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { kernels } from '../kernels/index.js';
import { pointwise } from './elementwise.js';

function sameShapeOrThrow(a: Tensor, b: Tensor, op: string): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: ${a.describe()} and ${b.describe()} must have the same shape`);
  }
}

/** Numerically stable logistic function. */
function sigmoidOf(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/** swiglu(gate, up) = silu(gate) * up (Llama MLP), both [..., F]. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  sameShapeOrThrow(gate, up, 'swiglu');
  const n = gate.size;
  const out = uninitialisedFloats(n);
  kernels().swigluForward(gate.data, up.data, n, out);
  return record(new Tensor(out, gate.shape), [gate, up], (g) => {
    // the kernel accumulates into both; a side without a gradient gets a throwaway buffer
    const dgate = gradOf(gate) ?? new Float32Array(n);
    const dup = gradOf(up) ?? new Float32Array(n);
    kernels().swigluBackward(g, gate.data, up.data, n, dgate, dup);
  });
}

/** GELU, tanh approximation (GPT-2). */
export function gelu(x: Tensor): Tensor {
  const out = uninitialisedFloats(x.size);
  kernels().geluForward(x.data, x.size, out);
  return record(new Tensor(out, x.shape), [x], (g) => {
    kernels().geluBackward(g, x.data, x.size, gradOf(x)!);
  });
}

/**
 * erf(z) in float64 from its Maclaurin series, summed until the terms stop mattering; |z| >= 4 gives
 * sign(z) (erfc(4) = 1.5e-8, below float32's resolution at 1). Accurate to about 1e-12, far below float32.
 */
export function erf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (Math.abs(z) >= 4) return Math.sign(z);
  // erf(z) = 2/sqrt(pi) sum_n (-1)^n z^(2n+1) / (n! (2n+1))
  const z2 = z * z;
  let power = z; // (-1)^n z^(2n+1) / n!
  let sum = z;
  for (let n = 1; n < 100; n++) {
    power *= -z2 / n;
    const term = power / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/**
 * Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (torch's gelu, HF's "gelu": GPT-NeoX);
 * d/dx = Phi(x) + x phi(x). A pointwise op: no fused kernel yet.
 */
export function geluExact(x: Tensor): Tensor {
  return pointwise(
    x,
    (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
    (v) => 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI),
  );
}

/** silu(x) = x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return pointwise(
    x,
    (v) => v * sigmoidOf(v),
    (v) => {
      const sg = sigmoidOf(v);
      return sg * (1 + v * (1 - sg));
    },
  );
}

/** sigmoid(x) = 1 / (1 + e^-x); d/dx = s (1 - s). */
export function sigmoid(x: Tensor): Tensor {
  return pointwise(x, sigmoidOf, (_, y) => y * (1 - y));
}

/** log sigmoid(x) = -softplus(-x), stable for large |x|; d/dx = sigmoid(-x). */
export function logSigmoid(x: Tensor): Tensor {
  return pointwise(
    x,
    (v) => (v < 0 ? v - Math.log1p(Math.exp(v)) : -Math.log1p(Math.exp(-v))),
    (v) => sigmoidOf(-v),
  );
}

/** softplus(x) = log(1 + e^x), stable; d/dx = sigmoid(x). */
export function softplus(x: Tensor): Tensor {
  return pointwise(x, (v) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v))), sigmoidOf);
}

/** tanh(x); d/dx = 1 - tanh^2. */
export function tanh(x: Tensor): Tensor {
  return pointwise(x, Math.tanh, (_, y) => 1 - y * y);
}

/** e^x. */
export function exp(x: Tensor): Tensor {
  return pointwise(x, Math.exp, (_, y) => y);
}

/** Natural log; d/dx = 1/x. */
export function log(x: Tensor): Tensor {
  return pointwise(x, Math.log, (v) => 1 / v);
}
