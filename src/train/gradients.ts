// Gradient bookkeeping between backward and the optimizer: global-norm clipping (PyTorch
// clip_grad_norm_ semantics) and the finiteness check that stops a run before a bad update.

/** A trainable parameter as the optimizers see it: values and their accumulated gradient. */
export interface TrainParam {
  name: string;
  data: Float32Array;
  grad: Float32Array;
}

/** ||g||_2 over all parameters together, accumulated in float64. */
export function globalGradNorm(params: TrainParam[]): number {
  let s = 0;
  for (const p of params) {
    const g = p.grad;
    for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  }
  return Math.sqrt(s);
}

/**
 * Scales all gradients by min(1, maxNorm / (norm + 1e-6)) as torch.nn.utils.clip_grad_norm_ does;
 * maxNorm = 0 disables clipping. Returns the norm before clipping.
 */
export function clipGradNorm(params: TrainParam[], maxNorm: number): number {
  const norm = globalGradNorm(params);
  if (maxNorm > 0 && Number.isFinite(norm)) {
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) for (const p of params) for (let i = 0; i < p.grad.length; i++) p.grad[i]! *= coef;
  }
  return norm;
}

export function zeroGrads(params: TrainParam[]): void {
  for (const p of params) p.grad.fill(0);
}

/** ||W - W0||_F in float64. */
export function deltaNorm(w: Float32Array, w0: Float32Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    const d = w[i]! - w0[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}
