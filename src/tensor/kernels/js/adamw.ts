// AdamW with PyTorch semantics (decoupled weight decay, bias-corrected moments), in place.

export function adamw(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  step: number,
): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i]! * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
}
