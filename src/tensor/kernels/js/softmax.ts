// Causal attention softmax and the fused log-softmax + gather of target log-probs. Sums in float64.

export function causalSoftmaxForward(scores: Float32Array, BH: number, T: number, scale: number): void {
  for (let bh = 0; bh < BH; bh++) {
    for (let t = 0; t < T; t++) {
      const o = (bh * T + t) * T;
      let max = -Infinity;
      for (let s = 0; s <= t; s++) max = Math.max(max, scale * scores[o + s]!);
      let sum = 0;
      for (let s = 0; s <= t; s++) {
        const e = Math.exp(scale * scores[o + s]! - max);
        scores[o + s] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let s = 0; s <= t; s++) scores[o + s] = scores[o + s]! * inv;
      scores.fill(0, o + t + 1, o + T);
    }
  }
}

export function causalSoftmaxBackward(
  dp: Float32Array,
  p: Float32Array,
  BH: number,
  T: number,
  scale: number,
  dscores: Float32Array,
): void {
  for (let bh = 0; bh < BH; bh++) {
    for (let t = 0; t < T; t++) {
      const o = (bh * T + t) * T;
      let dot = 0;
      for (let s = 0; s <= t; s++) dot += dp[o + s]! * p[o + s]!;
      // Each element reads its own dp before writing, so dp and dscores may alias.
      for (let s = 0; s <= t; s++) dscores[o + s] = scale * p[o + s]! * (dp[o + s]! - dot);
      dscores.fill(0, o + t + 1, o + T);
    }
  }
}

export function logSoftmaxGather(
  logits: Float32Array,
  targets: Int32Array,
  R: number,
  V: number,
  logp: Float32Array,
  lse: Float32Array,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
    const l = max + Math.log(sum);
    lse[r] = l;
    const t = targets[r]!;
    logp[r] = t < 0 ? 0 : logits[o + t]! - l;
  }
}

export function logSoftmaxGatherBackward(
  dlogp: Float32Array,
  logits: Float32Array,
  targets: Int32Array,
  lse: Float32Array,
  R: number,
  V: number,
  dlogits: Float32Array,
): void {
  for (let r = 0; r < R; r++) {
    const t = targets[r]!;
    if (t < 0) continue;
    const o = r * V;
    const g = dlogp[r]!;
    const l = lse[r]!;
    for (let v = 0; v < V; v++) dlogits[o + v] = dlogits[o + v]! - g * Math.exp(logits[o + v]! - l);
    dlogits[o + t] = dlogits[o + t]! + g;
  }
}
