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
