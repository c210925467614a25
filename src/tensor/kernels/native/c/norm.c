/* RMSNorm and LayerNorm, forward (write) and backward (accumulate), one row at a time.
 * Row sums are accumulated in double so results match the TypeScript kernels within 1e-5 relative. */
#include <math.h>
#include "kernels.h"

/* out = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps).  x, out [R,C]; w [C]; rstd [R]. */
PREFDYN_VECTOR_CLONES void k_rmsnorm_forward(const float *x, const float *w, int R, int C, float eps, float *out, float *rstd) {
  for (int r = 0; r < R; r++) {
    const float *xr = x + (size_t)r * C;
    float *outr = out + (size_t)r * C;
    double ss = 0.0;
    for (int c = 0; c < C; c++) ss += (double)xr[c] * xr[c];
    float s = (float)(1.0 / sqrt(ss / C + eps));
    for (int c = 0; c < C; c++) outr[c] = xr[c] * s * w[c];
    rstd[r] = s;
  }
}

/* With xhat = x * rstd and g = dout * w:  dw += dout * xhat;  dx += rstd * (g - xhat * mean(g * xhat)). */
PREFDYN_VECTOR_CLONES void k_rmsnorm_backward(const float *dout, const float *x, const float *w, const float *rstd, int R, int C,
                        float *dx, float *dw) {
  for (int r = 0; r < R; r++) {
    const float *xr = x + (size_t)r * C, *dr = dout + (size_t)r * C;
    float *dxr = dx + (size_t)r * C;
    float s = rstd[r];
    double dot = 0.0;
    for (int c = 0; c < C; c++) dot += (double)dr[c] * w[c] * xr[c] * s;
    float m = (float)(dot / C);
    for (int c = 0; c < C; c++) {
      float xhat = xr[c] * s;
      dw[c] += dr[c] * xhat;
      dxr[c] += s * (dr[c] * w[c] - xhat * m);
    }
  }
}

/* out = (x - mean) * rstd * w + b, rstd = 1/sqrt(var + eps) with the population variance. */
PREFDYN_VECTOR_CLONES void k_layernorm_forward(const float *x, const float *w, const float *b, int R, int C, float eps,
                         float *out, float *mean, float *rstd) {
  for (int r = 0; r < R; r++) {
    const float *xr = x + (size_t)r * C;
    float *outr = out + (size_t)r * C;
    double sum = 0.0;
    for (int c = 0; c < C; c++) sum += xr[c];
    double mu = sum / C, var = 0.0;
    for (int c = 0; c < C; c++) {
      double d = xr[c] - mu;
      var += d * d;
    }
    float s = (float)(1.0 / sqrt(var / C + eps)), m = (float)mu;
    for (int c = 0; c < C; c++) outr[c] = (xr[c] - m) * s * w[c] + b[c];
    mean[r] = m;
    rstd[r] = s;
  }
}

/* With xhat = (x - mean) * rstd and g = dout * w:  db += dout;  dw += dout * xhat;
 * dx += rstd * (g - mean(g) - xhat * mean(g * xhat)). */
PREFDYN_VECTOR_CLONES void k_layernorm_backward(const float *dout, const float *x, const float *w, const float *mean, const float *rstd,
                          int R, int C, float *dx, float *dw, float *db) {
  for (int r = 0; r < R; r++) {
    const float *xr = x + (size_t)r * C, *dr = dout + (size_t)r * C;
    float *dxr = dx + (size_t)r * C;
    float mu = mean[r], s = rstd[r];
    double gsum = 0.0, gdot = 0.0;
    for (int c = 0; c < C; c++) {
      double g = (double)dr[c] * w[c];
      gsum += g;
      gdot += g * ((xr[c] - mu) * s);
    }
    float gmean = (float)(gsum / C), gxmean = (float)(gdot / C);
    for (int c = 0; c < C; c++) {
      float xhat = (xr[c] - mu) * s;
      db[c] += dr[c];
      dw[c] += dr[c] * xhat;
      dxr[c] += s * (dr[c] * w[c] - gmean - xhat * gxmean);
    }
  }
}
