// Matrix products with a 2-D weight; leading axes of x are flattened into rows (M = prod of them).
// A bias is fused: the output rows start as the bias (a rank-one GEMM, ones [M,1] @ b [1,N]) and the GEMM
// accumulates onto them (beta = 1); its gradient, the column sums of dy, is one more GEMM:
// db [1,N] += ones [1,M] @ dy [M,N].
// A frozen weight kept 16-bit (w.half, never trainable) is multiplied by hgemm, which decodes it tile by
// tile and accumulates in F32; the backward then needs only dx, again through hgemm. Under the bf16 matmul
// precision, every product with a BF16 weight goes through bf16gemm instead (its other operand rounded to BF16).
import { Tensor, uninitialisedFloats } from '../tensor.js';
import { record, gradOf, gradForGemm } from '../autograd.js';
import { kernels, matmulPrecision } from '../kernels/index.js';
import type { HalfStorage } from '../half.js';

function lastAxis(x: Tensor, op: string): number {
  if (x.rank < 1) throw new Error(`${op}: ${x.describe()} needs at least one axis`);
  return x.shape[x.rank - 1]!;
}

function checkBias(b: Tensor | undefined, N: number, op: string): void {
  if (b && (b.rank !== 1 || b.shape[0] !== N)) throw new Error(`${op}: bias ${b.describe()} must be [${N}]`);
}

let ones = new Float32Array(0);

/** At least M ones. */
function onesOf(M: number): Float32Array {
  if (ones.length < M) ones = new Float32Array(M).fill(1);
  return ones;
}

/** The output [M,N] of a GEMM still to run: every row = b (the GEMM then accumulates), or unset without a bias (the GEMM overwrites). */
function rowsOfBias(b: Tensor | undefined, M: number, N: number): Float32Array {
  const out = uninitialisedFloats(M * N);
  if (b) kernels().sgemm(false, false, M, N, 1, 1, onesOf(M), b.data, 0, out);
  return out;
}

/** gb [N] += column sums of g [M,N]. */
function accumulateBiasGrad(g: Float32Array, M: number, N: number, gb: Float32Array): void {
  kernels().sgemm(false, false, 1, N, M, 1, onesOf(M), g, 1, gb);
}

/** C [M,N] = A [M,K] @ op(h) + beta * C for a frozen 16-bit weight h (hgemm's transB): BF16 products under the bf16 matmul precision. */
function halfGemm(
  h: HalfStorage,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  beta: number,
  C: Float32Array,
): void {
  if (h.dtype === 'BF16' && matmulPrecision() === 'bf16') kernels().bf16gemm(transB, M, N, K, 1, A, h.bits, beta, C);
  else kernels().hgemm(h.dtype, transB, M, N, K, 1, A, h.bits, beta, C);
}

/**
 * linear(x [..., K], w [N, K], b? [N]) -> [..., N] = x @ w^T + b  (nn.Linear layout).
 * Backward: dx += dy @ w;  dw += dy^T @ x;  db += sum over rows of dy.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const K = lastAxis(x, 'linear');
  if (w.rank !== 2 || w.shape[1] !== K) {
    throw new Error(`linear: weight ${w.describe()} must be [out, ${K}] to match input ${x.describe()}`);
  }
  const N = w.shape[0]!;
  checkBias(b, N, 'linear');
  const M = x.size / K;
  const out = rowsOfBias(b, M, N);
  const h = w.half;
  if (h) halfGemm(h, true, M, N, K, x.data, b ? 1 : 0, out);
  else kernels().sgemm(false, true, M, N, K, 1, x.data, w.data, b ? 1 : 0, out);
  return record(new Tensor(out, [...x.shape.slice(0, -1), N]), [x, w, b], (g) => {
    const k = kernels();
    const gx = gradForGemm(x);
    const gw = gradForGemm(w);
    const gb = gradOf(b);
    if (gx && h) halfGemm(h, false, M, K, N, g, gx.beta, gx.grad);
    else if (gx) k.sgemm(false, false, M, K, N, 1, g, w.data, gx.beta, gx.grad);
    if (gw) k.sgemm(true, false, N, K, M, 1, g, x.data, gw.beta, gw.grad);
    if (gb) accumulateBiasGrad(g, M, N, gb);
  });
}

/**
 * matmul(a [..., K], b [K, N], bias? [N]) -> [..., N] = a @ b + bias  (GPT-2 Conv1D layout).
 * Backward: da += dy @ b^T;  db += a^T @ dy;  dbias += sum over rows of dy.
 */
export function matmul(a: Tensor, b: Tensor, bias?: Tensor): Tensor {
  const K = lastAxis(a, 'matmul');
  if (b.rank !== 2 || b.shape[0] !== K) {
    throw new Error(`matmul: right operand ${b.describe()} must be [${K}, N] to match ${a.describe()}`);
  }
  const N = b.shape[1]!;
  checkBias(bias, N, 'matmul');
  const M = a.size / K;
  const out = rowsOfBias(bias, M, N);
  const h = b.half;
  if (h) halfGemm(h, false, M, N, K, a.data, bias ? 1 : 0, out);
  else kernels().sgemm(false, false, M, N, K, 1, a.data, b.data, bias ? 1 : 0, out);
  return record(new Tensor(out, [...a.shape.slice(0, -1), N]), [a, b, bias], (g) => {
    const k = kernels();
    const ga = gradForGemm(a);
    const gb = gradForGemm(b);
    const gbias = gradOf(bias);
    if (ga && h) halfGemm(h, true, M, K, N, g, ga.beta, ga.grad);
    else if (ga) k.sgemm(false, true, M, K, N, 1, g, b.data, ga.beta, ga.grad);
    if (gb) k.sgemm(true, false, K, N, M, 1, a.data, g, gb.beta, gb.grad);
    if (gbias) accumulateBiasGrad(g, M, N, gbias);
  });
}
