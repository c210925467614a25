// Elementwise nonlinearities. GELU and SwiGLU run through the fused kernels; the rest are short
// loops here. Each backward uses the forward output where that is cheaper (exp, sigmoid, tanh).
import { Tensor, uninitialisedFloats } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { kernels } from '../kernels/index.js';

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
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = X[i]! * sigmoidOf(X[i]!);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) {
      const s = sigmoidOf(X[i]!);
      gx[i] += g[i]! * s * (1 + X[i]! * (1 - s));
    }
  });
}

/** sigmoid(x) = 1 / (1 + e^-x); d/dx = s (1 - s). */
export function sigmoid(x: Tensor): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = sigmoidOf(X[i]!);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i] += g[i]! * out[i]! * (1 - out[i]!);
  });
}

/** log sigmoid(x) = -softplus(-x), stable for large |x|; d/dx = sigmoid(-x). */
export function logSigmoid(x: Tensor): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) {
    const v = X[i]!;
    out[i] = v < 0 ? v - Math.log1p(Math.exp(v)) : -Math.log1p(Math.exp(-v));
  }
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i] += g[i]! * sigmoidOf(-X[i]!);
  });
}

/** softplus(x) = log(1 + e^x), stable; d/dx = sigmoid(x). */
export function softplus(x: Tensor): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) {
    const v = X[i]!;
    out[i] = v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
  }
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i] += g[i]! * sigmoidOf(X[i]!);
  });
}

/** tanh(x); d/dx = 1 - tanh^2. */
export function tanh(x: Tensor): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = Math.tanh(X[i]!);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i] += g[i]! * (1 - out[i]! * out[i]!);
  });
}

/** e^x. */
export function exp(x: Tensor): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = Math.exp(X[i]!);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i] += g[i]! * out[i]!;
  });
}

/** Natural log; d/dx = 1/x. */
export function log(x: Tensor): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = Math.log(X[i]!);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i] += g[i]! / X[i]!;
  });
}
