// RMSNorm and LayerNorm over the last axis, rows of length C. Sums in float64.

export function rmsnormForward(
  x: Float32Array,
  w: Float32Array,
  R: number,
  C: number,
  eps: number,
  out: Float32Array,
  rstd: Float32Array,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[o + c]! * x[o + c]!;
    const s = 1 / Math.sqrt(ss / C + eps);
    rstd[r] = s;
    for (let c = 0; c < C; c++) out[o + c] = x[o + c]! * s * w[c]!;
  }
}

// y_c = w_c x_c s, s = (mean x^2 + eps)^(-1/2):
// dx_c = s * (dy_c w_c - x_c * s^2 * mean_j(dy_j w_j x_j)),  dw_c = sum_r dy_c x_c s.
export function rmsnormBackward(
  dout: Float32Array,
  x: Float32Array,
  w: Float32Array,
  rstd: Float32Array,
  R: number,
  C: number,
  dx: Float32Array,
  dw: Float32Array,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * C;
    const s = rstd[r]!;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[o + c]! * w[c]! * x[o + c]!;
    const k = (s * s * dot) / C;
    for (let c = 0; c < C; c++) {
      dx[o + c] = dx[o + c]! + s * (dout[o + c]! * w[c]! - x[o + c]! * k);
      dw[c] = dw[c]! + dout[o + c]! * x[o + c]! * s;
    }
  }
}

export function layernormForward(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  R: number,
  C: number,
  eps: number,
  out: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += x[o + c]!;
    const m = sum / C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = x[o + c]! - m;
      v += d * d;
    }
    const s = 1 / Math.sqrt(v / C + eps);
    mean[r] = m;
    rstd[r] = s;
    for (let c = 0; c < C; c++) out[o + c] = (x[o + c]! - m) * s * w[c]! + b[c]!;
  }
}

// xhat = (x - mean) s, g = dy * w:  dx = s * (g - mean(g) - xhat * mean(g * xhat)),
// dw += dy * xhat, db += dy. mean and rstd are the float32 values the forward stored.
export function layernormBackward(
  dout: Float32Array,
  x: Float32Array,
  w: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  R: number,
  C: number,
  dx: Float32Array,
  dw: Float32Array,
  db: Float32Array,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * C;
    const m = mean[r]!;
    const s = rstd[r]!;
    let gMean = 0;
    let gxMean = 0;
    for (let c = 0; c < C; c++) {
      const g = dout[o + c]! * w[c]!;
      gMean += g;
      gxMean += g * (x[o + c]! - m) * s;
    }
    gMean /= C;
    gxMean /= C;
    for (let c = 0; c < C; c++) {
      const xhat = (x[o + c]! - m) * s;
      const dy = dout[o + c]!;
      dx[o + c] = dx[o + c]! + s * (dy * w[c]! - gMean - xhat * gxMean);
      dw[c] = dw[c]! + dy * xhat;
      db[c] = db[c]! + dy;
    }
  }
}
