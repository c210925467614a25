/* GEMM through OpenBLAS's cblas_sgemm, row-major, transposes passed to BLAS (never materialised).
 * Leading dimensions follow from the stored shapes: A is [M,K] (lda = K) or, transposed, [K,M] (lda = M);
 * B is [K,N] (ldb = N) or [N,K] (ldb = K); C is [M,N] (ldc = N). */
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

void k_sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    scale_c(M, N, beta, C);
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, at_least_one(transA ? M : K), B, at_least_one(transB ? K : N), beta, C,
              at_least_one(N));
}

void k_sgemm_batched(bool transA, bool transB, int batch, int M, int N, int K, float alpha,
                     const float *A, int64_t strideA, const float *B, int64_t strideB, float beta,
                     float *C, int64_t strideC) {
  for (int i = 0; i < batch; i++) {
    k_sgemm(transA, transB, M, N, K, alpha, A + i * strideA, B + i * strideB, beta, C + i * strideC);
  }
}
