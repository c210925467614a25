// Matrix multiply in plain TypeScript: C = alpha * op(A) @ op(B) + beta * C, row-major, with BLAS's
// leading dimensions (row i of a stored matrix starts ld elements after row i-1). As in BLAS (Goto's algorithm), blocks of op(A) and op(B) are copied
// ("packed") into small contiguous panels, reading A and B in place through their strides, so the
// four transpose cases share one micro-kernel and no transposed matrix is ever formed. The micro-kernel
// keeps a 4x4 tile of C in registers: per step of k it loads 4 values of A and 4 of B for 16
// multiply-adds.
//
// Index maps (M,N,K as in types.ts; dense matrices have lda = K or M, ldb = N or K, ldc = N):
//   A not transposed: A is [M,K], op(A)[i,k] = A[i*lda + k];   transposed: A is [K,M], op(A)[i,k] = A[k*lda + i]
//   B not transposed: B is [K,N], op(B)[k,j] = B[k*ldb + j];   transposed: B is [N,K], op(B)[k,j] = B[j*ldb + k]
//   C is [M,N]: C[i,j] = C[i*ldc + j]

const MR = 4; // rows of a register tile
const NR = 4; // columns of a register tile
const KC = 256; // depth of a packed block
const MC = 64; // rows of op(A) per packed block: MC*KC floats (64 KB) stay in L2 with the B panel's tiles
const NC = 1024; // columns of op(B) per packed panel (KC*NC floats = 1 MB, streamed tile by tile)

// Packed panels and an edge tile, reused across calls (kernels allocate nothing per call).
// MC and NC are multiples of MR and NR, so zero-padded tiles always fit.
const packedA = new Float32Array(MC * KC);
const packedB = new Float32Array(KC * NC);
const edgeTile = new Float64Array(MR * NR);

/** C = beta * C over the M rows of N values from cOff (row stride ldc): beta = 0 overwrites (NaN in C is ignored). */
function scaleC(C: Float32Array, cOff: number, M: number, N: number, ldc: number, beta: number): void {
  if (beta === 1) return;
  for (let r = 0; r < M; r++) {
    const o = cOff + r * ldc;
    if (beta === 0) C.fill(0, o, o + N);
    else for (let i = o; i < o + N; i++) C[i] = C[i]! * beta;
  }
}

/**
 * Packs tn lines (rows of op(A) or columns of op(B)) from line t0, depths k0..k0+kc, as ceil(tn/width) tiles,
 * each kc steps of `width` values (zero-padded): out[(tile*kc + k)*width + r] = X[off + (t0 + tile*width + r)*sT +
 * (k0 + k)*sK]. Rows of op(A): op(A)[i,k] = A[aOff + i*sAi + k*sAk], width MR, into packedA; columns of op(B):
 * op(B)[k,j] = B[bOff + k*sBk + j*sBj], width NR, into packedB.
 */
function pack(
  out: Float32Array,
  width: number,
  X: Float32Array,
  off: number,
  sT: number,
  sK: number,
  t0: number,
  tn: number,
  k0: number,
  kc: number,
): void {
  let p = 0;
  for (let tt = 0; tt < tn; tt += width) {
    const lines = Math.min(width, tn - tt);
    for (let k = 0; k < kc; k++) {
      const base = off + (t0 + tt) * sT + (k0 + k) * sK;
      for (let r = 0; r < width; r++) out[p++] = r < lines ? X[base + r * sT]! : 0;
    }
  }
}

/** C[i0.., j0..] += alpha * (packed A block) @ (packed B panel), tile by tile. */
function multiplyPacked(
  mc: number,
  nc: number,
  kc: number,
  alpha: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
  i0: number,
  j0: number,
): void {
  const PA = packedA;
  const PB = packedB;
  for (let jt = 0; jt < nc; jt += NR) {
    const bBase = (jt / NR) * kc * NR;
    const cols = Math.min(NR, nc - jt);
    for (let it = 0; it < mc; it += MR) {
      const aBase = (it / MR) * kc * MR;
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0;
      let c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0;
      let c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let k = 0, a = aBase, b = bBase; k < kc; k++, a += MR, b += NR) {
        const a0 = PA[a]!,
          a1 = PA[a + 1]!,
          a2 = PA[a + 2]!,
          a3 = PA[a + 3]!;
        const b0 = PB[b]!,
          b1 = PB[b + 1]!,
          b2 = PB[b + 2]!,
          b3 = PB[b + 3]!;
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const rows = Math.min(MR, mc - it);
      const c0 = cOff + (i0 + it) * ldc + j0 + jt;
      if (rows === MR && cols === NR) {
        C[c0]! += alpha * c00;
        C[c0 + 1]! += alpha * c01;
        C[c0 + 2]! += alpha * c02;
        C[c0 + 3]! += alpha * c03;
        const c1 = c0 + ldc;
        C[c1]! += alpha * c10;
        C[c1 + 1]! += alpha * c11;
        C[c1 + 2]! += alpha * c12;
        C[c1 + 3]! += alpha * c13;
        const c2 = c1 + ldc;
        C[c2]! += alpha * c20;
        C[c2 + 1]! += alpha * c21;
        C[c2 + 2]! += alpha * c22;
        C[c2 + 3]! += alpha * c23;
        const c3 = c2 + ldc;
        C[c3]! += alpha * c30;
        C[c3 + 1]! += alpha * c31;
        C[c3 + 2]! += alpha * c32;
        C[c3 + 3]! += alpha * c33;
      } else {
        // edge tile: write only the rows and columns inside C
        const t = edgeTile;
        t[0] = c00;
        t[1] = c01;
        t[2] = c02;
        t[3] = c03;
        t[4] = c10;
        t[5] = c11;
        t[6] = c12;
        t[7] = c13;
        t[8] = c20;
        t[9] = c21;
        t[10] = c22;
        t[11] = c23;
        t[12] = c30;
        t[13] = c31;
        t[14] = c32;
        t[15] = c33;
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) C[c0 + r * ldc + c]! += alpha * t[r * NR + c]!;
      }
    }
  }
}

/** One sgemm on matrices starting at the given element offsets, rows lda/ldb/ldc apart. */
function sgemmAt(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
): void {
  scaleC(C, cOff, M, N, ldc, beta);
  if (alpha === 0 || K === 0 || M === 0 || N === 0) return;
  const sAi = transA ? 1 : lda;
  const sAk = transA ? lda : 1;
  const sBk = transB ? 1 : ldb;
  const sBj = transB ? ldb : 1;
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      pack(packedB, NR, B, bOff, sBj, sBk, j0, nc, k0, kc);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = Math.min(MC, M - i0);
        pack(packedA, MR, A, aOff, sAi, sAk, i0, mc, k0, kc);
        multiplyPacked(mc, nc, kc, alpha, C, cOff, ldc, i0, j0);
      }
    }
  }
}

export function sgemm(
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
): void {
  sgemmAt(transA, transB, M, N, K, alpha, A, 0, transA ? M : K, B, 0, transB ? K : N, beta, C, 0, N);
}

export function sgemmBatched(
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
): void {
  for (let i = 0; i < batch; i++) {
    sgemmAt(transA, transB, M, N, K, alpha, A, i * strideA, lda, B, i * strideB, ldb, beta, C, i * strideC, ldc);
  }
}
