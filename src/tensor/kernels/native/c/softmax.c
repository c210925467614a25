/* Causal attention softmax and the fused log-softmax + gather of target log-probs. */
#include <math.h>
#include <string.h>
#include "fastexp.h"
#include "kernels.h"

/* The helpers are forced inline so that each vector clone of a kernel gets them at its own width (a
 * called helper would be compiled once, for baseline x86-64). */
#define ROW_HELPER static inline __attribute__((always_inline))

/* Sum of n floats: 8 float partial sums (a straight-line block gcc vectorises), combined in double. */
ROW_HELPER double sum_floats(const float *x, int n) {
  float acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) acc[j] += x[i + j];
  }
  double sum = 0.0;
  for (int j = 0; j < 8; j++) sum += acc[j];
  for (; i < n; i++) sum += x[i];
  return sum;
}

/* The vocabulary-long rows of the log-softmax use 32 partial results: two AVX-512 registers (four AVX2)
 * of independent chains, so the adds of one group overlap the exps of the next. With 8 the sum ran at a
 * third of the backward's speed (512x8192: 4.7 ms against 2.1 ms with 32, same machine). */
#define ROW_LANES 32

/* sum_v exp(x[v] - shift) over n values, in ROW_LANES float partial sums combined in double. */
ROW_HELPER double sum_exp_shifted(const float *x, int n, float shift) {
  float acc[ROW_LANES] = {0};
  int i = 0;
  for (; i + ROW_LANES <= n; i += ROW_LANES) {
    for (int j = 0; j < ROW_LANES; j++) acc[j] += exp_approx(x[i + j] - shift);
  }
  double sum = 0.0;
  for (int j = 0; j < ROW_LANES; j++) sum += acc[j];
  for (; i < n; i++) sum += exp_approx(x[i] - shift);
  return sum;
}

/* max of n > 0 floats, ROW_LANES at a time like the sum above. */
ROW_HELPER float max_floats(const float *x, int n) {
  float acc[ROW_LANES];
  for (int j = 0; j < ROW_LANES; j++) acc[j] = x[0];
  int i = 0;
  for (; i + ROW_LANES <= n; i += ROW_LANES) {
    for (int j = 0; j < ROW_LANES; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  }
  for (; i < n; i++) acc[0] = x[i] > acc[0] ? x[i] : acc[0];
  float mx = acc[0];
  for (int j = 1; j < ROW_LANES; j++) mx = acc[j] > mx ? acc[j] : mx;
  return mx;
}

/* scores [BH,T,T] in place: row t gets softmax_s(scale * scores[t,s]) for s <= t and 0 for s > t. */
PREFDYN_VECTOR_CLONES void k_causal_softmax_forward(float *scores, int BH, int T, float scale) {
  for (int64_t row = 0; row < (int64_t)BH * T; row++) {
    int t = (int)(row % T);
    float *p = scores + row * T;
    float mx = -INFINITY;
    for (int s = 0; s <= t; s++) {
      p[s] *= scale;
      if (p[s] > mx) mx = p[s];
    }
    for (int s = 0; s <= t; s++) p[s] = exp_approx(p[s] - mx);
    float inv = (float)(1.0 / sum_floats(p, t + 1));
    for (int s = 0; s <= t; s++) p[s] *= inv;
    memset(p + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
  }
}

/* dscores[t,s] = scale * p[t,s] * (dp[t,s] - sum_u dp[t,u] p[t,u]) for s <= t, 0 above the diagonal.
 * The row's dot product is taken before any write, so dp and dscores may be the same array. */
PREFDYN_VECTOR_CLONES void k_causal_softmax_backward(const float *dp, const float *p, int BH, int T, float scale, float *dscores) {
  for (int64_t row = 0; row < (int64_t)BH * T; row++) {
    int t = (int)(row % T);
    const float *dpr = dp + row * T, *pr = p + row * T;
    float *out = dscores + row * T;
    double dot = 0.0;
    for (int s = 0; s <= t; s++) dot += (double)dpr[s] * pr[s];
    float d = (float)dot;
    for (int s = 0; s <= t; s++) out[s] = scale * pr[s] * (dpr[s] - d);
    memset(out + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
  }
}

/* lse[r] = log sum_v exp(logits[r,v]) (max-shifted); logp[r] = logits[r,targets[r]] - lse[r], 0 when masked (-1). */
PREFDYN_VECTOR_CLONES void k_log_softmax_gather(const float *logits, const int32_t *targets, int R, int V, float *logp, float *lse) {
  for (int r = 0; r < R; r++) {
    const float *x = logits + (size_t)r * V;
    float mx = V > 0 ? max_floats(x, V) : -INFINITY;
    float l = mx + (float)log(sum_exp_shifted(x, V, mx));
    lse[r] = l;
    logp[r] = targets[r] < 0 ? 0.0f : x[targets[r]] - l;
  }
}

/* dlogits[r,v] += dlogp[r] * (1[v == t_r] - exp(logits[r,v] - lse[r])); masked rows are left untouched. */
PREFDYN_VECTOR_CLONES void k_log_softmax_gather_backward(const float *dlogp, const float *logits, const int32_t *targets, const float *lse,
                                   int R, int V, float *dlogits) {
  for (int r = 0; r < R; r++) {
    if (targets[r] < 0) continue;
    const float *x = logits + (size_t)r * V;
    float *dx = dlogits + (size_t)r * V;
    float g = dlogp[r], l = lse[r];
    for (int v = 0; v < V; v++) dx[v] -= g * exp_approx(x[v] - l);
    dx[targets[r]] += g;
  }
}
