/* N-API glue: reads and checks every argument, then calls the C kernels in kernels.h. Each kernel is a row of
 * KERNELS (name, argument count, reader); one callback, dispatch, serves them all.
 * Every array is checked against the length its shape arguments require before anything is written,
 * so a caller's bug throws a JS error naming the kernel and the argument instead of writing out of bounds.
 * Typed arrays may be subarray views: napi_get_typedarray_info returns the data pointer already
 * advanced by the view's byteOffset. */
#include <node_api.h>
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "kernels.h"

#define MAX_ARGS 20

/* The arguments of one call, and whether reading them has already thrown. */
typedef struct {
  napi_env env;
  const char *kernel;
  napi_value argv[MAX_ARGS];
  size_t argc;
  bool failed;
} Args;

/* Throws "native <kernel>: <detail>" (a TypeError for a wrong type, else a RangeError), once per call. */
__attribute__((format(printf, 3, 4))) static void fail(Args *a, bool type_error, const char *fmt, ...) {
  if (a->failed) return;
  char detail[200], msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "native %s: %s", a->kernel, detail);
  if (type_error) {
    napi_throw_type_error(a->env, NULL, msg);
  } else {
    napi_throw_range_error(a->env, NULL, msg);
  }
  a->failed = true;
}

static bool read_args(napi_env env, napi_callback_info info, const char *kernel, size_t want, Args *a) {
  a->env = env;
  a->kernel = kernel;
  a->argc = MAX_ARGS;
  a->failed = false;
  napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL);
  if (a->argc < want) fail(a, false, "expected %zu arguments, got %zu", want, a->argc);
  return !a->failed;
}

static double arg_number(Args *a, size_t i, const char *name) {
  double x = 0;
  if (a->failed) return 0;
  if (napi_get_value_double(a->env, a->argv[i], &x) != napi_ok) {
    fail(a, true, "%s must be a number", name);
  }
  return x;
}

/* A size or count: an integer in [0, INT_MAX] (BLAS indexes with 32-bit ints). */
static int arg_dim(Args *a, size_t i, const char *name) {
  double x = arg_number(a, i, name);
  if (!a->failed && (x < 0 || x > INT_MAX || floor(x) != x)) {
    fail(a, false, "%s must be an integer in [0, 2^31), got %g", name, x);
  }
  return (int)x;
}

static int64_t arg_stride(Args *a, size_t i, const char *name) {
  double x = arg_number(a, i, name);
  if (!a->failed && (x < 0 || x > 9007199254740991.0 || floor(x) != x)) {
    fail(a, false, "%s must be a non-negative integer, got %g", name, x);
  }
  return (int64_t)x;
}

static bool arg_bool(Args *a, size_t i, const char *name) {
  bool b = false;
  if (!a->failed && napi_get_value_bool(a->env, a->argv[i], &b) != napi_ok) {
    fail(a, true, "%s must be a boolean", name);
  }
  return b;
}

static void *arg_array(Args *a, size_t i, const char *name, napi_typedarray_type want_type, const char *type_name,
                       double need) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (a->failed) return NULL;
  napi_is_typedarray(a->env, a->argv[i], &is_typed);
  if (is_typed) napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, NULL, NULL);
  if (!is_typed || type != want_type) {
    fail(a, true, "%s must be a%s %s", name, type_name[0] == 'I' ? "n" : "", type_name);
    return NULL;
  }
  if ((double)length < need) {
    fail(a, false, "%s is too short: %zu elements, needs at least %.0f", name, length, need);
    return NULL;
  }
  return data;
}

static float *arg_f32(Args *a, size_t i, const char *name, double need) {
  return (float *)arg_array(a, i, name, napi_float32_array, "Float32Array", need);
}

static const int32_t *arg_i32(Args *a, size_t i, const char *name, double need) {
  return (const int32_t *)arg_array(a, i, name, napi_int32_array, "Int32Array", need);
}

static void sgemm(Args *a) {
  bool tA = arg_bool(a, 0, "transA"), tB = arg_bool(a, 1, "transB");
  int M = arg_dim(a, 2, "M"), N = arg_dim(a, 3, "N"), K = arg_dim(a, 4, "K");
  float alpha = (float)arg_number(a, 5, "alpha");
  const float *A = arg_f32(a, 6, "A", (double)M * K);
  const float *B = arg_f32(a, 7, "B", (double)K * N);
  float beta = (float)arg_number(a, 8, "beta");
  float *C = arg_f32(a, 9, "C", (double)M * N);
  if (a->failed) return;
  k_sgemm(tA, tB, M, N, K, alpha, A, B, beta, C);
}

/* The dtype argument of hgemm: "BF16" (true) or "F16" (false). */
static bool arg_bf16(Args *a, size_t i, const char *name) {
  char buf[8] = {0};
  size_t len = 0;
  if (a->failed) return false;
  if (napi_get_value_string_utf8(a->env, a->argv[i], buf, sizeof buf, &len) != napi_ok) {
    fail(a, true, "%s must be a string", name);
    return false;
  }
  if (strcmp(buf, "BF16") != 0 && strcmp(buf, "F16") != 0) fail(a, false, "%s must be \"F16\" or \"BF16\", got \"%s\"", name, buf);
  return strcmp(buf, "BF16") == 0;
}

static void hgemm(Args *a) {
  bool bf16 = arg_bf16(a, 0, "dtype"), tB = arg_bool(a, 1, "transB");
  int M = arg_dim(a, 2, "M"), N = arg_dim(a, 3, "N"), K = arg_dim(a, 4, "K");
  float alpha = (float)arg_number(a, 5, "alpha");
  const float *A = arg_f32(a, 6, "A", (double)M * K);
  const uint16_t *B = (const uint16_t *)arg_array(a, 7, "B", napi_uint16_array, "Uint16Array", (double)K * N);
  float beta = (float)arg_number(a, 8, "beta");
  float *C = arg_f32(a, 9, "C", (double)M * N);
  if (a->failed) return;
  if (!k_hgemm(bf16, tB, M, N, K, alpha, A, B, beta, C)) fail(a, false, "out of memory for a tile of B");
}

/* bf16gemm(transB, M, N, K, alpha, A, B, beta, C): B a BF16 weight; threads as BLAS has. */
static void bf16gemm(Args *a) {
  bool tB = arg_bool(a, 0, "transB");
  int M = arg_dim(a, 1, "M"), N = arg_dim(a, 2, "N"), K = arg_dim(a, 3, "K");
  float alpha = (float)arg_number(a, 4, "alpha");
  const float *A = arg_f32(a, 5, "A", (double)M * K);
  const uint16_t *B = (const uint16_t *)arg_array(a, 6, "B", napi_uint16_array, "Uint16Array", (double)K * N);
  float beta = (float)arg_number(a, 7, "beta");
  float *C = arg_f32(a, 8, "C", (double)M * N);
  if (a->failed) return;
  if (!k_bf16gemm(tB, M, N, K, alpha, A, B, beta, C, openblas_get_num_threads()))
    fail(a, false, "out of memory for the BF16 copy of A or a packed block of B");
}

/* smallProductsOnOneThread(on): see k_sgemm_small_on_one_thread. */
static void small_products_on_one_thread(Args *a) {
  bool on = arg_bool(a, 0, "on");
  if (a->failed) return;
  k_sgemm_small_on_one_thread(on);
}

/* Elements a batched operand spans: the last matrix starts at (batch-1)*stride, and a stored [rows, cols]
 * matrix with rows ld apart spans (rows-1)*ld + cols. */
static double batched_need(int batch, int64_t stride, int rows, int cols, int ld) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  return (double)(batch - 1) * (double)stride + (double)(rows - 1) * ld + cols;
}

/* A leading dimension: at least the stored row length (and 1), as BLAS requires. */
static int arg_ld(Args *a, size_t i, const char *name, int row_length) {
  int ld = arg_dim(a, i, name);
  int least = row_length > 1 ? row_length : 1;
  if (!a->failed && ld < least) fail(a, false, "%s = %d is less than the stored row length %d", name, ld, least);
  return ld;
}

static void sgemm_batched(Args *a) {
  bool tA = arg_bool(a, 0, "transA"), tB = arg_bool(a, 1, "transB");
  int batch = arg_dim(a, 2, "batch"), M = arg_dim(a, 3, "M"), N = arg_dim(a, 4, "N"), K = arg_dim(a, 5, "K");
  float alpha = (float)arg_number(a, 6, "alpha");
  /* stored shapes: A [M,K] or [K,M]; B [K,N] or [N,K]; C [M,N] */
  int aRows = tA ? K : M, aCols = tA ? M : K, bRows = tB ? N : K, bCols = tB ? K : N;
  int lda = arg_ld(a, 8, "lda", aCols), ldb = arg_ld(a, 11, "ldb", bCols), ldc = arg_ld(a, 15, "ldc", N);
  int64_t sA = arg_stride(a, 9, "strideA"), sB = arg_stride(a, 12, "strideB"), sC = arg_stride(a, 16, "strideC");
  const float *A = arg_f32(a, 7, "A", batched_need(batch, sA, aRows, aCols, lda));
  const float *B = arg_f32(a, 10, "B", batched_need(batch, sB, bRows, bCols, ldb));
  float beta = (float)arg_number(a, 13, "beta");
  float *C = arg_f32(a, 14, "C", batched_need(batch, sC, M, N, ldc));
  if (a->failed) return;
  k_sgemm_batched(tA, tB, batch, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC);
}

static void rmsnorm_forward(Args *a) {
  int R = arg_dim(a, 2, "R"), C = arg_dim(a, 3, "C");
  float eps = (float)arg_number(a, 4, "eps");
  double RC = (double)R * C;
  const float *x = arg_f32(a, 0, "x", RC), *w = arg_f32(a, 1, "w", C);
  float *out = arg_f32(a, 5, "out", RC), *rstd = arg_f32(a, 6, "rstd", R);
  if (a->failed) return;
  k_rmsnorm_forward(x, w, R, C, eps, out, rstd);
}

static void rmsnorm_backward(Args *a) {
  int R = arg_dim(a, 4, "R"), C = arg_dim(a, 5, "C");
  double RC = (double)R * C;
  const float *dout = arg_f32(a, 0, "dout", RC), *x = arg_f32(a, 1, "x", RC), *w = arg_f32(a, 2, "w", C);
  const float *rstd = arg_f32(a, 3, "rstd", R);
  float *dx = arg_f32(a, 6, "dx", RC), *dw = arg_f32(a, 7, "dw", C);
  if (a->failed) return;
  k_rmsnorm_backward(dout, x, w, rstd, R, C, dx, dw);
}

static void layernorm_forward(Args *a) {
  int R = arg_dim(a, 3, "R"), C = arg_dim(a, 4, "C");
  float eps = (float)arg_number(a, 5, "eps");
  double RC = (double)R * C;
  const float *x = arg_f32(a, 0, "x", RC), *w = arg_f32(a, 1, "w", C), *b = arg_f32(a, 2, "b", C);
  float *out = arg_f32(a, 6, "out", RC), *mean = arg_f32(a, 7, "mean", R), *rstd = arg_f32(a, 8, "rstd", R);
  if (a->failed) return;
  k_layernorm_forward(x, w, b, R, C, eps, out, mean, rstd);
}

static void layernorm_backward(Args *a) {
  int R = arg_dim(a, 5, "R"), C = arg_dim(a, 6, "C");
  double RC = (double)R * C;
  const float *dout = arg_f32(a, 0, "dout", RC), *x = arg_f32(a, 1, "x", RC), *w = arg_f32(a, 2, "w", C);
  const float *mean = arg_f32(a, 3, "mean", R), *rstd = arg_f32(a, 4, "rstd", R);
  float *dx = arg_f32(a, 7, "dx", RC), *dw = arg_f32(a, 8, "dw", C), *db = arg_f32(a, 9, "db", C);
  if (a->failed) return;
  k_layernorm_backward(dout, x, w, mean, rstd, R, C, dx, dw, db);
}

static void swiglu_forward(Args *a) {
  int n = arg_dim(a, 2, "n");
  const float *gate = arg_f32(a, 0, "gate", n), *up = arg_f32(a, 1, "up", n);
  float *out = arg_f32(a, 3, "out", n);
  if (a->failed) return;
  k_swiglu_forward(gate, up, n, out);
}

static void swiglu_backward(Args *a) {
  int n = arg_dim(a, 3, "n");
  const float *dout = arg_f32(a, 0, "dout", n), *gate = arg_f32(a, 1, "gate", n), *up = arg_f32(a, 2, "up", n);
  float *dgate = arg_f32(a, 4, "dgate", n), *dup = arg_f32(a, 5, "dup", n);
  if (a->failed) return;
  k_swiglu_backward(dout, gate, up, n, dgate, dup);
}

static void gelu_forward(Args *a) {
  int n = arg_dim(a, 1, "n");
  const float *x = arg_f32(a, 0, "x", n);
  float *out = arg_f32(a, 2, "out", n);
  if (a->failed) return;
  k_gelu_forward(x, n, out);
}

static void gelu_backward(Args *a) {
  int n = arg_dim(a, 2, "n");
  const float *dout = arg_f32(a, 0, "dout", n), *x = arg_f32(a, 1, "x", n);
  float *dx = arg_f32(a, 3, "dx", n);
  if (a->failed) return;
  k_gelu_backward(dout, x, n, dx);
}

static void causal_softmax_forward(Args *a) {
  int BH = arg_dim(a, 1, "BH"), T = arg_dim(a, 2, "T");
  float scale = (float)arg_number(a, 3, "scale");
  float *scores = arg_f32(a, 0, "scores", (double)BH * T * T);
  if (a->failed) return;
  k_causal_softmax_forward(scores, BH, T, scale);
}

static void causal_softmax_backward(Args *a) {
  int BH = arg_dim(a, 2, "BH"), T = arg_dim(a, 3, "T");
  float scale = (float)arg_number(a, 4, "scale");
  double n = (double)BH * T * T;
  const float *dp = arg_f32(a, 0, "dp", n), *p = arg_f32(a, 1, "p", n);
  float *dscores = arg_f32(a, 5, "dscores", n);
  if (a->failed) return;
  k_causal_softmax_backward(dp, p, BH, T, scale, dscores);
}

/* Targets must be -1 (masked) or a column of the row; checked for all rows before anything is written. */
static void check_targets(Args *a, const int32_t *targets, int R, int V) {
  if (a->failed) return;
  for (int r = 0; r < R; r++) {
    if (targets[r] < -1 || targets[r] >= V) {
      fail(a, false, "targets[%d] = %d is outside [-1, V) with V = %d (-1 marks a masked row)", r, targets[r], V);
      return;
    }
  }
}

static void log_softmax_gather(Args *a) {
  int R = arg_dim(a, 2, "R"), V = arg_dim(a, 3, "V");
  const float *logits = arg_f32(a, 0, "logits", (double)R * V);
  const int32_t *targets = arg_i32(a, 1, "targets", R);
  float *logp = arg_f32(a, 4, "logp", R), *lse = arg_f32(a, 5, "lse", R);
  check_targets(a, targets, R, V);
  if (a->failed) return;
  k_log_softmax_gather(logits, targets, R, V, logp, lse);
}

static void log_softmax_gather_backward(Args *a) {
  int R = arg_dim(a, 4, "R"), V = arg_dim(a, 5, "V");
  const float *dlogp = arg_f32(a, 0, "dlogp", R), *logits = arg_f32(a, 1, "logits", (double)R * V);
  const int32_t *targets = arg_i32(a, 2, "targets", R);
  const float *lse = arg_f32(a, 3, "lse", R);
  float *dlogits = arg_f32(a, 6, "dlogits", (double)R * V);
  check_targets(a, targets, R, V);
  if (a->failed) return;
  k_log_softmax_gather_backward(dlogp, logits, targets, lse, R, V, dlogits);
}

static void adamw(Args *a) {
  int n = arg_dim(a, 4, "n");
  double lr = arg_number(a, 5, "lr"), b1 = arg_number(a, 6, "beta1"), b2 = arg_number(a, 7, "beta2");
  double eps = arg_number(a, 8, "eps"), wd = arg_number(a, 9, "weightDecay");
  int step = arg_dim(a, 10, "step");
  float *param = arg_f32(a, 0, "param", n), *m = arg_f32(a, 2, "m", n), *v = arg_f32(a, 3, "v", n);
  const float *grad = arg_f32(a, 1, "grad", n);
  if (!a->failed && step < 1) fail(a, false, "step must be >= 1 (the first step is 1), got %d", step);
  if (a->failed) return;
  k_adamw(param, grad, m, v, n, lr, b1, b2, eps, wd, step);
}

/* OpenBLAS's own description, for `prefdyn doctor`: {config, corename, threads, parallel}, and bf16Dot: whether
 * bf16gemm runs on the CPU's BF16 dot-product instructions (bf16gemm.c). */
static napi_value blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  static const char *parallel_names[] = {"sequential", "pthreads", "openmp"};
  int parallel = openblas_get_parallel();
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "config", v);
  napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "corename", v);
  napi_create_int32(env, openblas_get_num_threads(), &v);
  napi_set_named_property(env, obj, "threads", v);
  napi_create_string_utf8(env, parallel >= 0 && parallel <= 2 ? parallel_names[parallel] : "unknown",
                          NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "parallel", v);
  napi_get_boolean(env, k_bf16_dot_available(), &v);
  napi_set_named_property(env, obj, "bf16Dot", v);
  return obj;
}

/* setBlasThreads(n): BLAS's threads, and as many for bf16gemm (pool.c); elementwise kernels stay single-threaded. */
static void set_blas_threads(Args *a) {
  int n = arg_dim(a, 0, "threads");
  if (!a->failed && n < 1) fail(a, false, "threads must be >= 1, got %d", n);
  if (a->failed) return;
  openblas_set_num_threads(n);
}

/* Every op allocates its output as a fresh Float32Array (node: calloc). glibc serves blocks of 128 KiB and
 * more with mmap and returns them on free, so each training step faulted in its activations and
 * gradients page by page again (measured on the benchmark GPT: ~7,500 page faults and ~100 ms of system
 * time per step). Serving blocks up to 32 MiB (glibc's maximum) from the heap and keeping up to 1 GiB
 * of freed memory for reuse brings that to ~1,500 faults and a few ms; peak RSS is unchanged. Set only
 * when the user has not tuned malloc through its own environment variables. */
static void keep_freed_buffers(void) {
#ifdef __GLIBC__
  if (getenv("MALLOC_MMAP_THRESHOLD_") || getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_TOP_PAD_")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

/* The exported kernels: JS name, argument count, and the function that reads, checks and runs them. */
typedef struct {
  const char *name;
  size_t argc;
  void (*run)(Args *a);
} Kernel;

static const Kernel KERNELS[] = {
    {"sgemm", 10, sgemm},
    {"sgemmBatched", 17, sgemm_batched},
    {"hgemm", 10, hgemm},
    {"bf16gemm", 9, bf16gemm},
    {"rmsnormForward", 7, rmsnorm_forward},
    {"rmsnormBackward", 8, rmsnorm_backward},
    {"layernormForward", 9, layernorm_forward},
    {"layernormBackward", 10, layernorm_backward},
    {"swigluForward", 4, swiglu_forward},
    {"swigluBackward", 6, swiglu_backward},
    {"geluForward", 3, gelu_forward},
    {"geluBackward", 4, gelu_backward},
    {"causalSoftmaxForward", 4, causal_softmax_forward},
    {"causalSoftmaxBackward", 6, causal_softmax_backward},
    {"logSoftmaxGather", 6, log_softmax_gather},
    {"logSoftmaxGatherBackward", 7, log_softmax_gather_backward},
    {"adamw", 11, adamw},
    {"smallProductsOnOneThread", 1, small_products_on_one_thread},
    {"setBlasThreads", 1, set_blas_threads},
};
#define N_KERNELS (sizeof KERNELS / sizeof KERNELS[0])

/* The one N-API callback of every kernel (its Kernel is the property's data): arguments in, kernel run, or a
 * JS error thrown by the reading. */
static napi_value dispatch(napi_env env, napi_callback_info info) {
  void *data = NULL;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
  const Kernel *k = (const Kernel *)data;
  Args a;
  if (read_args(env, info, k->name, k->argc, &a)) k->run(&a);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  keep_freed_buffers();
  napi_property_descriptor props[N_KERNELS + 1];
  for (size_t i = 0; i < N_KERNELS; i++) {
    props[i] = (napi_property_descriptor){KERNELS[i].name, NULL, dispatch, NULL, NULL, NULL, napi_enumerable,
                                          (void *)&KERNELS[i]};
  }
  props[N_KERNELS] = (napi_property_descriptor){"blasInfo", NULL, blas_info, NULL, NULL, NULL, napi_enumerable, NULL};
  napi_define_properties(env, exports, N_KERNELS + 1, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
