/* GEMM through OpenBLAS's cblas_sgemm, row-major, transposes passed to BLAS (never materialised).
 * k_sgemm's leading dimensions follow from the stored shapes: A is [M,K] (lda = K) or, transposed, [K,M]
 * (lda = M); B is [K,N] (ldb = N) or [N,K] (ldb = K); C is [M,N] (ldc = N). k_sgemm_batched takes them
 * from the caller, so attention reads each head of a [T, heads*hd] activation in place. k_hgemm multiplies by a
 * 16-bit (F16/BF16) B, decoded to F32 a tile at a time (Debian's OpenBLAS 0.3.21 exports no cblas_sbgemm). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

/* Under k_sgemm_small_on_one_thread(true), products under 2^24 multiply-adds (~0.1 ms on one core) run on one
 * thread. A BLAS worker woken for a product spins for about 0.1 s after it (OpenBLAS's THREAD_TIMEOUT, 2^28
 * cycles) on the core bf16gemm's threads need: under the bf16 matmul precision, the small products (LoRA's;
 * the frozen ones run in bf16gemm) woke it. Single-threading them made the 0.5B benchmark's LoRA DPO step
 * 13-19% faster (medians of 4 steps, three interleaved rounds: 1210-1552 ms -> 1021-1251 ms). Off by default:
 * with some OpenBLAS cores the sums of a product depend on how many threads compute it, and the F32
 * precision's results stay BLAS's own. Only with OpenBLAS's own pthreads and without its CPU affinity (Debian's
 * build): an OpenMP build would resize its thread buffers at every switch, an affinity build re-pin the caller. */
#define SMALL_PRODUCT_MACS (1 << 24)
static bool small_on_one_thread = false;

void k_sgemm_small_on_one_thread(bool on) {
  small_on_one_thread = on && openblas_get_parallel() == 1 && strstr(openblas_get_config(), "NO_AFFINITY");
}

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
  bool small = small_on_one_thread && (double)M * N * K < SMALL_PRODUCT_MACS;
  int threads = small ? openblas_get_num_threads() : 1;
  bool one = threads > 1;
  if (one) openblas_set_num_threads(1);
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, at_least_one(lda), B, at_least_one(ldb), beta, C, at_least_one(ldc));
  if (one) openblas_set_num_threads(threads);
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

/* 16-bit -> F32, exact. BF16 is the top half of an F32. F16 (IEEE binary16) by the branch-free bit method of
 * the FP16 library (Marat Dukhan): normals rescale their exponent by a multiply, subnormals come from a
 * magic-number subtraction, infinities and NaNs survive the rescale; the loop vectorises in each clone. */
static inline float bits_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
static inline uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

PREFDYN_VECTOR_CLONES
static void decode_bf16(const uint16_t *src, size_t n, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = bits_f32((uint32_t)src[i] << 16);
}

PREFDYN_VECTOR_CLONES
static void decode_f16(const uint16_t *src, size_t n, float *out) {
  for (size_t i = 0; i < n; i++) {
    uint32_t w = (uint32_t)src[i] << 16, sign = w & 0x80000000u, two_w = w + w;
    float normalized = bits_f32((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    float denormalized = bits_f32((two_w >> 17) | (126u << 23)) - 0.5f;
    out[i] = bits_f32(sign | (two_w < (1u << 27) ? f32_bits(denormalized) : f32_bits(normalized)));
  }
}

void k_decode_half(bool bf16, const uint16_t *src, size_t n, float *out) {
  if (bf16) {
    decode_bf16(src, n, out);
  } else {
    decode_f16(src, n, out);
  }
}

/* Floats of B decoded per tile (1 MB), but at least HGEMM_MIN_ROWS stored rows (then 5 MB for a 0.5B model's
 * down projection, 14 MB for rows of 14336): a tile of a wide row would otherwise hold 18 to 53 rows, and sgemm
 * runs far below its rate on so thin a product. */
#define HGEMM_TILE (1 << 18)
#define HGEMM_MIN_ROWS 256

/* C[M,N] = alpha * A[M,K] @ op(B) + beta * C, B 16-bit, stored [N,K] (transB) or [K,N]: decoded tile by tile
 * into one buffer, each tile multiplied by cblas_sgemm (transB: tile = rows n0.. of B -> columns n0.. of C;
 * else tile = rows k0.. of B, accumulated into C). Returns false when the tile buffer cannot be allocated. */
bool k_hgemm(bool bf16, bool transB, int M, int N, int K, float alpha, const float *A, const uint16_t *B, float beta,
             float *C) {
  if (M == 0 || N == 0) return true;
  int width = transB ? K : N, rows = transB ? N : K;
  if (width == 0 || rows == 0) { /* K = 0: C = beta * C */
    scale_c(M, N, beta, C);
    return true;
  }
  int step = HGEMM_TILE / width > HGEMM_MIN_ROWS ? HGEMM_TILE / width : HGEMM_MIN_ROWS;
  if (step > rows) step = rows;
  float *tile = malloc((size_t)step * (size_t)width * sizeof(float));
  if (!tile) return false;
  for (int r0 = 0; r0 < rows; r0 += step) {
    int nr = rows - r0 < step ? rows - r0 : step;
    k_decode_half(bf16, B + (size_t)r0 * width, (size_t)nr * width, tile);
    if (transB) {
      sgemm_ld(false, true, M, nr, K, alpha, A, K, tile, K, beta, C + r0, N);
    } else {
      sgemm_ld(false, false, M, N, nr, alpha, A + r0, K, tile, N, r0 == 0 ? beta : 1.0f, C, N);
    }
  }
  free(tile);
  return true;
}
