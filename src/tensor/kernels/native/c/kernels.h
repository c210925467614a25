/* The native kernels as plain C functions over raw float arrays, row-major.
 * Semantics (write vs accumulate, masked targets, beta = 0) are those documented in
 * src/tensor/kernels/types.ts; addon.c validates every length before calling these. */
#ifndef PREFDYN_KERNELS_H
#define PREFDYN_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The elementwise loops are compiled for AVX-512, for AVX2 and for baseline x86-64, and the dynamic
 * loader picks the widest the CPU has (GCC function multiversioning through ifunc): the addon stays
 * portable while the exp-heavy loops run 8 or 16 floats wide. The arithmetic is the same in every
 * clone (no -ffast-math, no contraction under -std=c11), so the results do not depend on the CPU. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define PREFDYN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PREFDYN_VECTOR_CLONES
#endif

/* gemm.c: C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C through cblas_sgemm. */
void k_sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C);
/* Matrix i of A starts at A + i*strideA with rows lda apart; likewise B (ldb) and C (ldc). */
void k_sgemm_batched(bool transA, bool transB, int batch, int M, int N, int K, float alpha,
                     const float *A, int lda, int64_t strideA, const float *B, int ldb, int64_t strideB, float beta,
                     float *C, int ldc, int64_t strideC);
/* Whether every sgemm (k_sgemm, k_sgemm_batched, k_hgemm's tiles) under 2^24 multiply-adds runs on one thread
 * (default: BLAS decides); OpenBLAS's pthreads builds without CPU affinity only. */
void k_sgemm_small_on_one_thread(bool on);
/* C[M,N] = alpha * A[M,K] @ op(B) + beta * C with B 16-bit (bf16: BF16, else F16) stored [N,K] (transB) or [K,N],
 * decoded to F32 tile by tile; false when out of memory. k_decode_half: out[0..n) = the F32 values of src. */
bool k_hgemm(bool bf16, bool transB, int M, int N, int K, float alpha, const float *A, const uint16_t *B, float beta,
             float *C);
void k_decode_half(bool bf16, const uint16_t *src, size_t n, float *out);
/* bf16gemm.c: C[M,N] = alpha * bf16(A)[M,K] @ op(B) + beta * C, B BF16 stored [N,K] (transB) or [K,N], A rounded to
 * BF16 and the products accumulated in F32, on up to `threads` threads; false when out of memory.
 * k_bf16_dot_available: whether the CPU has the BF16 dot-product instructions k_bf16gemm uses (else it rounds A
 * and calls k_hgemm). */
bool k_bf16gemm(bool transB, int M, int N, int K, float alpha, const float *A, const uint16_t *B, float beta, float *C,
                int threads);
bool k_bf16_dot_available(void);
/* pool.c: fn(arg, i) for i in 0..count-1 (count >= 1), index 0 on the caller and the rest on worker threads
 * kept between calls; returns when all have. */
void k_pool_run(int count, void (*fn)(void *arg, int index), void *arg);

/* norm.c: x, out, dout, dx [R,C]; w, b, dw, db [C]; mean, rstd [R]. */
void k_rmsnorm_forward(const float *x, const float *w, int R, int C, float eps, float *out, float *rstd);
void k_rmsnorm_backward(const float *dout, const float *x, const float *w, const float *rstd, int R, int C,
                        float *dx, float *dw);
void k_layernorm_forward(const float *x, const float *w, const float *b, int R, int C, float eps,
                         float *out, float *mean, float *rstd);
void k_layernorm_backward(const float *dout, const float *x, const float *w, const float *mean, const float *rstd,
                          int R, int C, float *dx, float *dw, float *db);

/* activation.c: elementwise over n. */
void k_swiglu_forward(const float *gate, const float *up, int64_t n, float *out);
void k_swiglu_backward(const float *dout, const float *gate, const float *up, int64_t n, float *dgate, float *dup);
void k_gelu_forward(const float *x, int64_t n, float *out);
void k_gelu_backward(const float *dout, const float *x, int64_t n, float *dx);

/* softmax.c: scores, p, dp, dscores [BH,T,T]; logits, dlogits [R,V]; targets, logp, lse, dlogp [R]. */
void k_causal_softmax_forward(float *scores, int BH, int T, float scale);
void k_causal_softmax_backward(const float *dp, const float *p, int BH, int T, float scale, float *dscores);
void k_log_softmax_gather(const float *logits, const int32_t *targets, int R, int V, float *logp, float *lse);
void k_log_softmax_gather_backward(const float *dlogp, const float *logits, const int32_t *targets, const float *lse,
                                   int R, int V, float *dlogits);

/* adamw.c: one AdamW step over n parameters, in place. */
void k_adamw(float *param, const float *grad, float *m, float *v, int64_t n,
             double lr, double beta1, double beta2, double eps, double weight_decay, int step);

#endif
