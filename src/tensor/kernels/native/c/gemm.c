/* GEMM through OpenBLAS's cblas_sgemm, row-major, transposes passed to BLAS (never materialised).
 * k_sgemm's leading dimensions follow from the stored shapes: A is [M,K] (lda = K) or, transposed, [K,M]
 * (lda = M); B is [K,N] (ldb = N) or [N,K] (ldb = K); C is [M,N] (ldc = N). k_sgemm_batched takes them
 * from the caller, so attention reads each head of a [T, heads*hd] activation in place. */
#include <cblas.h>
#include <string.h>
#include "kernels.h"

static int at_least_one(int n) { return n > 0 ? n : 1; }

/* K = 0: op(A) @ op(B) is the zero matrix, so C = beta * C (beta = 0 overwrites, ignoring NaN). BLAS would
 * reject lda = 0, hence handled here. */
static void scale_c(int M, int N, float beta, float *C) {
  size_t n = (size_t)M * (size_t)N;
  if (beta == 0.0f) {
    memset(C, 0, n * sizeof(float));
  } else if (beta != 1.0f) {
    for (size_t i = 0; i < n; i++) C[i] *= beta;
  }
}

/* C[M,N] (row stride ldc) = alpha * op(A) @ op(B) + beta * C, A and B read in place through lda, ldb. */
static void sgemm_ld(bool transA, bool transB, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int r = 0; r < M; r++) scale_c(1, N, beta, C + (size_t)r * ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, at_least_one(lda), B, at_least_one(ldb), beta, C, at_least_one(ldc));
}

void k_sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C) {
  sgemm_ld(transA, transB, M, N, K, alpha, A, transA ? M : K, B, transB ? K : N, beta, C, N);
}

void k_sgemm_batched(bool transA, bool transB, int batch, int M, int N, int K, float alpha,
                     const float *A, int lda, int64_t strideA, const float *B, int ldb, int64_t strideB, float beta,
                     float *C, int ldc, int64_t strideC) {
  for (int i = 0; i < batch; i++) {
    sgemm_ld(transA, transB, M, N, K, alpha, A + i * strideA, lda, B + i * strideB, ldb, beta, C + i * strideC, ldc);
  }
}
