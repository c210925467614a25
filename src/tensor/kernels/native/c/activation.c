/* SwiGLU and GELU (tanh approximation), elementwise; forward writes, backward accumulates. */
#include <math.h>
#include "fastexp.h"
#include "kernels.h"

/* out = silu(gate) * up, silu(g) = g * sigmoid(g). */
PREFDYN_VECTOR_CLONES void k_swiglu_forward(const float *gate, const float *up, int64_t n, float *out) {
  for (int64_t i = 0; i < n; i++) {
    float g = gate[i];
    out[i] = g / (1.0f + exp_approx(-g)) * up[i];
  }
}

/* dup += dout * silu(g);  dgate += dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))). */
PREFDYN_VECTOR_CLONES void k_swiglu_backward(const float *dout, const float *gate, const float *up, int64_t n, float *dgate, float *dup) {
  for (int64_t i = 0; i < n; i++) {
    float g = gate[i], sig = 1.0f / (1.0f + exp_approx(-g));
    dup[i] += dout[i] * g * sig;
    dgate[i] += dout[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
  }
}

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_CUBE 0.044715f

/* tanh(u) = 1 - 2 / (1 + e^(2u)): one vectorisable exp instead of glibc's tanhf (several times slower);
 * saturates to +-1 for large |u|. Absolute error ~1e-7, which GELU scales by x. */
static inline float fast_tanh(float u) { return 1.0f - 2.0f / (1.0f + exp_approx(2.0f * u)); }

/* out = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3). */
PREFDYN_VECTOR_CLONES void k_gelu_forward(const float *x, int64_t n, float *out) {
  for (int64_t i = 0; i < n; i++) {
    float xi = x[i];
    out[i] = 0.5f * xi * (1.0f + fast_tanh(GELU_SCALE * (xi + GELU_CUBE * xi * xi * xi)));
  }
}

/* dx += dout * (0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)). */
PREFDYN_VECTOR_CLONES void k_gelu_backward(const float *dout, const float *x, int64_t n, float *dx) {
  for (int64_t i = 0; i < n; i++) {
    float xi = x[i];
    float t = fast_tanh(GELU_SCALE * (xi + GELU_CUBE * xi * xi * xi));
    float du = GELU_SCALE * (1.0f + 3.0f * GELU_CUBE * xi * xi);
    dx[i] += dout[i] * (0.5f * (1.0f + t) + 0.5f * xi * (1.0f - t * t) * du);
  }
}
