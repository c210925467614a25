// The kernel interface: every hot loop of the engine, on flat Float32Arrays, row-major.
// Two implementations: kernels/js (pure TypeScript, always available, the reference) and
// kernels/native (C addon over OpenBLAS). Ops (src/tensor/ops) call only these.
//
// Conventions
// - All matrices are dense and row-major; arrays may be subarray views (byteOffset honoured).
// - "Accumulate" means the kernel ADDS into the output (dx += ...), as llm.c does, so gradients of
//   tensors used twice need no extra buffers. Kernels documented as "write" overwrite.
// - Shapes are given in the doc comment of each kernel: R = rows, C = columns (the normalised axis).

import type { HalfDtype } from '../half.js';

export type KernelSetName = 'js' | 'native';

export interface Kernels {
  readonly name: KernelSetName;

  /**
   * C = alpha * op(A) @ op(B) + beta * C.   op(A): [M,K], op(B): [K,N], C: [M,N].
   * transA: A is stored [K,M] (op(A) = A^T); transB: B is stored [N,K]. Never materialise a transpose.
   * beta = 0 overwrites C (its old contents, even NaN, are ignored); beta = 1 accumulates.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
  ): void;

  /**
   * C = alpha * A @ op(B) + beta * C with a 16-bit B (the bits of a frozen F16/BF16 weight): A [M,K] F32;
   * B stored [N,K] when transB (nn.Linear's weight), else [K,N]; C [M,N]. B is converted to F32 tile by
   * tile on the fly, products accumulate in F32: the result is sgemm's on the F32-expanded B up to
   * summation order. beta as in sgemm.
   */
  hgemm(
    dtype: HalfDtype,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Uint16Array,
    beta: number,
    C: Float32Array,
  ): void;

  /**
   * Whether the F32 products (sgemm, sgemmBatched, hgemm's tiles) under 2^24 multiply-adds run on one thread
   * (default: off, BLAS decides). On under the bf16 matmul precision where bf16gemm has its own threads
   * (AVX512-BF16): they need every core, and a BLAS thread woken for a small product keeps one busy for ~0.1 s
   * after it. A setting of the set; the TypeScript kernels run on one thread anyway.
   */
  smallProductsOnOneThread(on: boolean): void;

  /**
   * C = alpha * bf16(A) @ op(B) + beta * C with B a BF16 weight stored [N,K] (transB, nn.Linear's layout) or
   * [K,N]: A [M,K] F32 is rounded to BF16 (nearest, ties to even), each product of two BF16 numbers is exact
   * in F32, and the products accumulate in F32: PyTorch's bf16 matmul. The result is hgemm's on the rounded A
   * up to summation order (on AVX512-BF16 CPUs the native set flushes subnormals to zero). beta as in sgemm.
   */
  bf16gemm(
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Uint16Array,
    beta: number,
    C: Float32Array,
  ): void;

  /**
   * `batch` independent sgemms on matrices stored inside larger arrays, read and written in place:
   * row i of stored matrix n of A starts at n*strideA + i*lda (likewise B with ldb, C with ldc), so a
   * head of a [T, heads*hd] activation is the [T, hd] matrix with ld = heads*hd (no copy).
   * A is stored [M,K] (or [K,M] when transA), B [K,N] (or [N,K]), C [M,N]; each ld is at least its
   * stored row length. A stride of 0 reuses the same matrix for every batch entry (shared K/V heads).
   */
  sgemmBatched(
    transA: boolean,
    transB: boolean,
    batch: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    strideA: number,
    B: Float32Array,
    ldb: number,
    strideB: number,
    beta: number,
    C: Float32Array,
    ldc: number,
    strideC: number,
  ): void;

  /** RMSNorm (write): out[r,:] = x[r,:] * rstd[r] * w;  rstd[r] = 1/sqrt(mean(x[r,:]^2) + eps). x,out [R,C], w [C], rstd [R]. */
  rmsnormForward(
    x: Float32Array,
    w: Float32Array,
    R: number,
    C: number,
    eps: number,
    out: Float32Array,
    rstd: Float32Array,
  ): void;
  /** RMSNorm backward (accumulate into dx [R,C] and dw [C]); rstd from the forward pass. */
  rmsnormBackward(
    dout: Float32Array,
    x: Float32Array,
    w: Float32Array,
    rstd: Float32Array,
    R: number,
    C: number,
    dx: Float32Array,
    dw: Float32Array,
  ): void;

  /** LayerNorm (write): out = (x - mean) * rstd * w + b. x,out [R,C]; w,b [C]; mean,rstd [R]. */
  layernormForward(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    R: number,
    C: number,
    eps: number,
    out: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
  ): void;
  /** LayerNorm backward (accumulate into dx [R,C], dw [C], db [C]). */
  layernormBackward(
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
  ): void;

  /** SwiGLU (write): out = silu(gate) * up, elementwise over n. */
  swigluForward(gate: Float32Array, up: Float32Array, n: number, out: Float32Array): void;
  /** SwiGLU backward (accumulate into dgate, dup). */
  swigluBackward(
    dout: Float32Array,
    gate: Float32Array,
    up: Float32Array,
    n: number,
    dgate: Float32Array,
    dup: Float32Array,
  ): void;

  /** GELU, tanh approximation (GPT-2's "gelu_new"), write: out = 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))). */
  geluForward(x: Float32Array, n: number, out: Float32Array): void;
  /** GELU backward (accumulate into dx). */
  geluBackward(dout: Float32Array, x: Float32Array, n: number, dx: Float32Array): void;

  /**
   * Causal softmax over attention scores, in place. scores: [BH, T, T] (query t, key s).
   * Each row t: p[s] = softmax_s(scale * scores[t,s]) for s <= t, and p[s] = 0 for s > t.
   */
  causalSoftmaxForward(scores: Float32Array, BH: number, T: number, scale: number): void;
  /**
   * Backward of causalSoftmaxForward, written into dscores [BH,T,T] (write):
   * dscores[t,s] = scale * p[t,s] * (dp[t,s] - sum_u dp[t,u] p[t,u]); zero for s > t.
   * dp and dscores may be the same array.
   */
  causalSoftmaxBackward(
    dp: Float32Array,
    p: Float32Array,
    BH: number,
    T: number,
    scale: number,
    dscores: Float32Array,
  ): void;

  /**
   * Log-softmax of each row of logits [R,V] gathered at targets [R] (write):
   * logp[r] = logits[r, targets[r]] - lse[r], lse[r] = log sum_v exp(logits[r,v]).
   * A target of -1 means "masked": logp[r] = 0 (lse still written). Never forms the [R,V] log-softmax.
   */
  logSoftmaxGather(
    logits: Float32Array,
    targets: Int32Array,
    R: number,
    V: number,
    logp: Float32Array,
    lse: Float32Array,
  ): void;
  /** Backward (accumulate into dlogits [R,V]): dlogits[r,v] += dlogp[r] * (1[v == t_r] - softmax(logits[r])[v]); masked rows untouched. */
  logSoftmaxGatherBackward(
    dlogp: Float32Array,
    logits: Float32Array,
    targets: Int32Array,
    lse: Float32Array,
    R: number,
    V: number,
    dlogits: Float32Array,
  ): void;

  /**
   * One AdamW step over n parameters, in place (PyTorch semantics, decoupled weight decay):
   * p -= lr*wd*p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
   * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).   t = step, starting at 1.
   */
  adamw(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;
}
