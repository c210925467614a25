// Normalisations over the last axis (rows of C channels), fused in the kernels.
import { Tensor, uninitialisedFloats } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { kernels } from '../kernels/index.js';

function channels(x: Tensor, params: Tensor[], op: string): number {
  const C = x.shape[x.rank - 1];
  if (C === undefined) throw new Error(`${op}: ${x.describe()} needs at least one axis`);
  for (const p of params) {
    if (p.rank !== 1 || p.shape[0] !== C)
      throw new Error(`${op}: ${p.describe()} must be [${C}] to match input ${x.describe()}`);
  }
  return C;
}

/** rmsnorm(x [..., C], w [C], eps) = x / sqrt(mean(x^2) + eps) * w  (Llama's LlamaRMSNorm). */
export function rmsnorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const C = channels(x, [w], 'rmsnorm');
  const R = x.size / C;
  const out = uninitialisedFloats(x.size);
  const rstd = new Float32Array(R);
  kernels().rmsnormForward(x.data, w.data, R, C, eps, out, rstd);
  return record(new Tensor(out, x.shape), [x, w], (g) => {
    const dx = gradOf(x) ?? new Float32Array(x.size);
    const dw = gradOf(w) ?? new Float32Array(C);
    kernels().rmsnormBackward(g, x.data, w.data, rstd, R, C, dx, dw);
  });
}

/** layernorm(x [..., C], w [C], b [C], eps) = (x - mean) / sqrt(var + eps) * w + b  (biased variance). */
export function layernorm(x: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
  const C = channels(x, [w, b], 'layernorm');
  const R = x.size / C;
  const out = uninitialisedFloats(x.size);
  const mean = new Float32Array(R);
  const rstd = new Float32Array(R);
  kernels().layernormForward(x.data, w.data, b.data, R, C, eps, out, mean, rstd);
  return record(new Tensor(out, x.shape), [x, w, b], (g) => {
    const dx = gradOf(x) ?? new Float32Array(x.size);
    const dw = gradOf(w) ?? new Float32Array(C);
    const db = gradOf(b) ?? new Float32Array(C);
    kernels().layernormBackward(g, x.data, w.data, mean, rstd, R, C, dx, dw, db);
  });
}
