// GEMM with a 16-bit right operand (a frozen F16/BF16 weight): B is decoded to F32 one tile at a time
// into a reused buffer and multiplied with sgemm, so the F32 copy of B never exists whole and every
// product accumulates in F32 exactly as sgemm on the F32-expanded B would (the decode is exact).
//   transB: B stored [N,K]; a tile is rows n0..n0+nb of B -> columns n0..n0+nb of C (ldc = N).
//   else:   B stored [K,N]; a tile is rows k0..k0+kb of B -> C += A[:, k0..k0+kb] @ tile (lda = K).
// bf16gemm, the BF16 matmul precision's product, is hgemm on A rounded to BF16.
import { bf16BitsToF32, decodeHalf, f32ToBf16Bits, type HalfDtype } from '../../half.js';
import { sgemmBatched } from './sgemm.js';

/** Elements of B decoded per tile (256 KB of F32): large enough for sgemm's blocking, small enough for L2. */
const TILE = 1 << 16;
let tile = new Float32Array(TILE);

export function hgemm(
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
): void {
  if (M === 0 || N === 0) return;
  const width = transB ? K : N; // the length of a stored row of B
  const rows = transB ? N : K; // the stored rows of B
  if (width === 0 || rows === 0) {
    // K = 0: C = beta * C
    sgemmBatched(false, transB, 1, M, N, 0, alpha, A, 1, 0, tile, 1, 0, beta, C, N, 0);
    return;
  }
  const step = Math.max(1, Math.floor(TILE / width));
  if (tile.length < step * width) tile = new Float32Array(step * width);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const nr = Math.min(step, rows - r0);
    decodeHalf(dtype, B.subarray(r0 * width, (r0 + nr) * width), tile, nr * width);
    if (transB) {
      // C[:, r0..r0+nr] = alpha * A [M,K] @ tile^T [K,nr] + beta * C[:, r0..r0+nr]
      sgemmBatched(false, true, 1, M, nr, K, alpha, A, K, 0, tile, K, 0, beta, C.subarray(r0), N, 0);
    } else {
      // C += alpha * A[:, r0..r0+nr] [M,nr] @ tile [nr,N]; the first tile applies beta
      const b = r0 === 0 ? beta : 1;
      sgemmBatched(false, false, 1, M, N, nr, alpha, A.subarray(r0), K, 0, tile, N, 0, b, C, N, 0);
    }
  }
}

/** Rows of A rounded at a time: 2^22 floats (16 MB), or 256 rows when those are longer. */
const ROUNDED_FLOATS = 1 << 22;

/** bf16(A) @ op(B) (B BF16): A rounded to BF16 a chunk of rows at a time, then hgemm, whose F32 sums of the exact BF16 products are the semantics. */
export function bf16gemm(
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  B: Uint16Array,
  beta: number,
  C: Float32Array,
): void {
  const rows = Math.min(M, Math.max(256, Math.floor(ROUNDED_FLOATS / Math.max(K, 1))));
  const rounded = new Float32Array(rows * K);
  for (let m0 = 0; m0 < M; m0 += rows) {
    const mc = Math.min(rows, M - m0);
    for (let i = 0; i < mc * K; i++) rounded[i] = bf16BitsToF32(f32ToBf16Bits(A[m0 * K + i]!));
    hgemm('BF16', transB, mc, N, K, alpha, rounded, B, beta, C.subarray(m0 * N, (m0 + mc) * N));
  }
}
