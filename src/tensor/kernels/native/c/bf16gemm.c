/* BF16 matrix products, PyTorch's bf16 matmul semantics: C[M,N] = alpha * bf16(A)[M,K] @ op(B) + beta * C with B
 * a BF16 weight stored [N,K] (transB, nn.Linear's layout) or [K,N]. A is rounded to BF16 (nearest, ties to even);
 * each product of two BF16 numbers is exact in F32, and the products accumulate in F32.
 *
 * Where the CPU has AVX512-BF16 (Zen 4/5, Cooper Lake, Sapphire Rapids), vdpbf16ps adds 32 BF16 products per
 * instruction, twice the F32 FMA rate. A is converted a chunk of rows at a time into rows padded with zeros, so
 * that a pair (A[m,k], A[m,k+1]) is one 32-bit word. B is packed a block at a time (KB rows of op(B) by NB columns) into the
 * matching pairs, P[p][n] = (op(B)[k0+2p, n], op(B)[k0+2p+1, n]): from [K,N] by interleaving two rows, from [N,K]
 * by transposing 16x16 blocks of 32-bit words (there the pairs are adjacent already). Each 8x32 block of C is then
 * 16 accumulators, each vdpbf16ps adding a broadcast pair of A's row times 16 columns of P. These instructions
 * flush subnormal numbers to zero (A's F32 inputs, BF16 inputs, partial sums and results; a difference only below
 * 1.2e-38). Elsewhere: A rounded, then k_hgemm (B decoded to F32, sgemm), the same products up to summation order,
 * subnormals kept.
 *
 * Threads: the columns of C are split over as many threads as BLAS has (PREFDYN_THREADS; one below 2^22
 * multiply-adds, at most 64): the caller and the workers pool.c keeps between calls. They never run beside a
 * BLAS product (the calls come one after another), though a BLAS worker may still be spinning from the last one
 * (see k_sgemm_small_on_one_thread). Each column is computed the same way whatever the split, so the thread count
 * does not change the result. */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

/* GCC 11 has both the AVX512-BF16 intrinsics and __builtin_cpu_supports("avx512bf16"). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define PREFDYN_BF16_DOT 1
#include <immintrin.h>
#endif

/* The rounded copy of A is made for a chunk of rows at a time, at most 16 MB unless that is under 256 rows (the
 * backward pass of an lm_head has rows of the vocabulary's size). */
#define CHUNK_BYTES (1 << 24)
#define CHUNK_MIN_ROWS 256
#define MR 8 /* rows of C per block of the dot-product kernel (8 x 2 accumulators); chunks are multiples of it */

/* F32 -> the bits of the nearest BF16, ties to even; NaN stays a (quiet) NaN. For the fallback. */
static inline uint16_t bf16_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#ifdef PREFDYN_BF16_DOT
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512bf16")))
#define KB 256 /* rows of op(B) per packed block, */
#define NB 512 /* and its columns: 128 pairs x 512 x 4 bytes = 256 KB, in L2 */

/* The first n of 16 lanes (none for n <= 0, all for n >= 16). */
BF16_TARGET static inline __mmask16 lanes16(int n) {
  return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

typedef struct {
  bool transB;
  int M, N, K, Kp; /* Kp: K rounded up to 32, the row stride of Ab */
  float alpha, beta;
  const uint16_t *Ab; /* [ceil(M/8)*8, Kp] BF16, zero-padded */
  const uint16_t *B;  /* [N, K] (transB) or [K, N] */
  float *C;           /* [M, N] */
  int n0, n1;         /* this thread's columns */
  bool failed;        /* out of memory for its packed block */
} Job;

/* Asks for the n BF16 from p in the cache ahead of their use. The packers read each row of the weight in pieces of a
 * few cache lines (a block's columns or K range), too short for the hardware prefetchers to follow; prefetching the
 * next pair of rows (next 16 rows) while packing the current ones made the products 5-20% faster with the weight
 * coming from memory (measured on the 0.5B benchmark's shapes, M 104, 2 threads). */
BF16_TARGET static inline void prefetch_span(const uint16_t *p, int n) {
  for (int i = 0; i < n; i += 32) _mm_prefetch((const char *)(p + i), _MM_HINT_T0);
}

/* Columns n0..n0+nb of rows k0..k0+kb of op(B) [K,N] as pairs of rows, P[p][n] = (row k0+2p, row k0+2p+1) in the
 * low and high half of a 32-bit word; columns nb..nbp (nbp a multiple of 32) and a missing last row are zeros. */
BF16_TARGET static void pack_rows(const Job *j, int k0, int kb, int n0, int nb, int nbp, uint32_t *P) {
  const __m512i first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  for (int p = 0; p < (kb + 1) / 2; p++) {
    const uint16_t *r0 = j->B + (size_t)(k0 + 2 * p) * j->N + n0;
    const uint16_t *r1 = 2 * p + 1 < kb ? r0 + j->N : NULL;
    for (int r = 2 * p + 2; r < 2 * p + 4 && r < kb; r++) prefetch_span(r0 + (size_t)(r - 2 * p) * j->N, nb);
    uint32_t *out = P + (size_t)p * nbp;
    for (int n = 0; n < nbp; n += 32) {
      int rem = nb - n;
      __mmask32 mask = rem >= 32 ? 0xffffffffu : rem <= 0 ? 0u : (1u << rem) - 1u;
      __m512i a = _mm512_maskz_loadu_epi16(mask, r0 + n);
      __m512i b = r1 ? _mm512_maskz_loadu_epi16(mask, r1 + n) : _mm512_setzero_si512();
      /* unpack interleaves within each 128-bit lane; the permutes put columns n..n+15 and n+16..n+31 in order */
      __m512i lo = _mm512_unpacklo_epi16(a, b), hi = _mm512_unpackhi_epi16(a, b);
      _mm512_storeu_si512(out + n, _mm512_permutex2var_epi64(lo, first, hi));
      _mm512_storeu_si512(out + n + 16, _mm512_permutex2var_epi64(lo, second, hi));
    }
  }
}

/* r[i] = row i of a 16x16 matrix of 32-bit words -> r[i] = its column i. */
BF16_TARGET static inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  /* 128-bit lane L of r[4i + c]: column 4L + c of rows 4i .. 4i+3; the lane shuffles gather each column's four */
  for (int i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0xdd);
    t[8 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0xdd);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0xdd);
    r[4 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0x88);
    r[12 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0xdd);
  }
}

/* As pack_rows, from B stored [N,K]: the pair (k0+2p, k0+2p+1) of column n is the 32-bit word p of row n0+n from k0,
 * so 16 rows by 16 words are transposed at a time. An odd K's last pair is assembled with a zero. */
BF16_TARGET static void pack_transposed(const Job *j, int k0, int kb, int n0, int nb, int nbp, uint32_t *P) {
  int pairs = (kb + 1) / 2, whole = kb / 2; /* whole: pairs with both halves inside the row */
  for (int n = 0; n < nbp; n += 16) {
    for (int i = n + 16; i < n + 32 && i < nb; i++) prefetch_span(j->B + (size_t)(n0 + i) * j->K + k0, kb);
    for (int p = 0; p < pairs; p += 16) {
      __mmask16 mask = lanes16(whole - p);
      __m512i r[16];
      for (int i = 0; i < 16; i++) {
        r[i] = _mm512_setzero_si512();
        if (n + i >= nb) continue; /* padding columns: zeros (and no pointer past the weight) */
        const uint16_t *row = j->B + (size_t)(n0 + n + i) * j->K + k0 + 2 * p;
        r[i] = _mm512_maskz_loadu_epi32(mask, row);
        if (whole < pairs && whole - p >= 0 && whole - p < 16) /* the odd K's last element */
          r[i] = _mm512_mask_set1_epi32(r[i], (__mmask16)(1u << (whole - p)), row[2 * (whole - p)]);
      }
      transpose16(r);
      for (int q = 0; q < 16 && p + q < pairs; q++) _mm512_storeu_si512(P + (size_t)(p + q) * nbp + n, r[q]);
    }
  }
}

/* C[:, n0..n1) block by block of NB columns and KB rows of op(B), each packed once for all rows of C. */
BF16_TARGET static bool run_job_columns(Job *j) {
  uint32_t *P = malloc((size_t)(KB / 2) * NB * sizeof *P);
  if (!P) return false;
  for (int n0 = j->n0; n0 < j->n1; n0 += NB) {
    int nb = j->n1 - n0 < NB ? j->n1 - n0 : NB, nbp = (nb + 31) / 32 * 32;
    for (int k0 = 0; k0 < j->K; k0 += KB) {
      int kb = j->K - k0 < KB ? j->K - k0 : KB, pairs = (kb + 1) / 2;
      if (j->transB) pack_transposed(j, k0, kb, n0, nb, nbp, P);
      else pack_rows(j, k0, kb, n0, nb, nbp, P);
      for (int m = 0; m < j->M; m += MR) {
        const uint16_t *a = j->Ab + (size_t)m * j->Kp + k0;
        for (int n = 0; n < nb; n += 32) {
          __m512 acc[MR][2];
          for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
          for (int p = 0; p < pairs; p++) {
            const uint32_t *b = P + (size_t)p * nbp + n;
            __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
            for (int r = 0; r < MR; r++) {
              uint32_t pair;
              memcpy(&pair, a + (size_t)r * j->Kp + 2 * p, sizeof pair);
              __m512bh av = (__m512bh)_mm512_set1_epi32((int)pair);
              acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
              acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
            }
          }
          int cols = nb - n < 32 ? nb - n : 32;
          __mmask16 mask[2] = {lanes16(cols), lanes16(cols - 16)};
          /* C = alpha * sum + (beta * C on the first block of K, C after it); beta = 0 never reads C */
          float c_scale = k0 > 0 ? 1.0f : j->beta;
          for (int r = 0; r < MR && m + r < j->M; r++) {
            float *c = j->C + (size_t)(m + r) * j->N + n0 + n;
            for (int h = 0; h < 2; h++) {
              __m512 v = _mm512_mul_ps(_mm512_set1_ps(j->alpha), acc[r][h]);
              if (c_scale != 0.0f)
                v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(c_scale), _mm512_maskz_loadu_ps(mask[h], c + 16 * h)));
              _mm512_mask_storeu_ps(c + 16 * h, mask[h], v);
            }
          }
        }
      }
    }
  }
  free(P);
  return true;
}

static void run_job(void *jobs, int index) {
  Job *j = (Job *)jobs + index;
  j->failed = !run_job_columns(j);
}

/* A [M,K] F32 -> Ab [ceil(M/8)*8, Kp] BF16, zero-padded rows and columns. */
BF16_TARGET static void round_rows(int M, int K, int Kp, const float *A, uint16_t *Ab) {
  int Mp = (M + MR - 1) / MR * MR;
  memset(Ab + (size_t)M * Kp, 0, (size_t)(Mp - M) * Kp * sizeof *Ab);
  for (int m = 0; m < M; m++) {
    const float *a = A + (size_t)m * K;
    uint16_t *out = Ab + (size_t)m * Kp;
    /* every element through the same instruction (it flushes F32 subnormals to zero), the tail masked */
    for (int k = 0; k < Kp; k += 32) {
      __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(lanes16(K - k - 16), a + k + 16),
                                       _mm512_maskz_loadu_ps(lanes16(K - k), a + k));
      _mm512_storeu_si512(out + k, (__m512i)v);
    }
  }
}

/* Below this many multiply-adds a second thread costs more than it saves. */
#define THREAD_MIN_MACS (1 << 22)
#define MAX_THREADS 64

/* Rows M of A and C, a chunk; Ab holds ceil(M/8)*8 rows of K rounded up to 32 BF16. */
static bool bf16_dot_chunk(bool transB, int M, int N, int K, float alpha, const float *A, const uint16_t *B, float beta,
                           float *C, int threads, uint16_t *Ab) {
  int Kp = (K + 31) / 32 * 32;
  round_rows(M, K, Kp, A, Ab);
  int groups = (N + 31) / 32; /* threads split the columns in multiples of 32, the width of a block of C */
  if ((double)M * N * K < THREAD_MIN_MACS || threads < 1) threads = 1;
  if (threads > groups) threads = groups;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  Job jobs[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    jobs[t] = (Job){transB, M, N, K, Kp, alpha, beta, Ab, B, C, 32 * (groups * t / threads),
                    32 * (groups * (t + 1) / threads), false};
    if (jobs[t].n1 > N) jobs[t].n1 = N;
  }
  k_pool_run(threads, run_job, jobs);
  bool ok = true;
  for (int t = 0; t < threads; t++) ok = ok && !jobs[t].failed;
  return ok;
}

#endif

bool k_bf16_dot_available(void) {
#ifdef PREFDYN_BF16_DOT
  static int available = -1;
  if (available < 0) {
    __builtin_cpu_init();
    available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bf16");
  }
  return available;
#else
  return false;
#endif
}

bool k_bf16gemm(bool transB, int M, int N, int K, float alpha, const float *A, const uint16_t *B, float beta, float *C,
                int threads) {
#ifndef PREFDYN_BF16_DOT
  (void)threads; /* the fallback's threads are BLAS's */
#endif
  if (M == 0 || N == 0) return true;
  bool dot = K > 0 && k_bf16_dot_available();
  /* a row of the copy: K rounded up to 32 BF16 for the dot products, else K floats */
  size_t row_bytes = dot ? (size_t)(K + 31) / 32 * 32 * sizeof(uint16_t) : (size_t)K * sizeof(float);
  size_t rows = row_bytes > 0 ? CHUNK_BYTES / row_bytes : (size_t)M;
  if (rows < CHUNK_MIN_ROWS) rows = CHUNK_MIN_ROWS;
  if (rows > (size_t)M) rows = (size_t)M;
  rows = (rows + MR - 1) / MR * MR;
  void *copy = malloc(rows * row_bytes + 1);
  if (!copy) return false;
  bool ok = true;
  for (int m0 = 0; m0 < M && ok; m0 += (int)rows) {
    int mc = M - m0 < (int)rows ? M - m0 : (int)rows;
    const float *a = A + (size_t)m0 * K;
    float *c = C + (size_t)m0 * N;
#ifdef PREFDYN_BF16_DOT
    if (dot) {
      ok = bf16_dot_chunk(transB, mc, N, K, alpha, a, B, beta, c, threads, copy);
      continue;
    }
#endif
    float *rounded = copy;
    for (size_t i = 0; i < (size_t)mc * (size_t)K; i++) {
      uint32_t u = (uint32_t)bf16_bits(a[i]) << 16;
      memcpy(&rounded[i], &u, sizeof u);
    }
    ok = k_hgemm(true, transB, mc, N, K, alpha, rounded, B, beta, c);
  }
  free(copy);
  return ok;
}
