// Every kernel of the active set (kernels(): js, or native with PREFDYN_KERNELS=native) against naive
// float64 loops written straight from the documented semantics in kernels/types.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernels } from '../src/tensor/kernels/index.js';
import { Rng } from '../src/util/rng.js';

function randn(n: number, seed: number, std = 1): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (!(Math.abs(a - e) <= rtol * (1 + Math.abs(e)))) assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
  }
}

/** C = alpha op(A) op(B) + beta C in float64, from the index maps of types.ts. */
function naiveGemm(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  beta: number,
  C: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (tA ? A[k * M + i]! : A[i * K + k]!) * (tB ? B[j * K + k]! : B[k * N + j]!);
      out[i * N + j] = alpha * s + (beta === 0 ? 0 : beta * C[i * N + j]!);
    }
  }
  return out;
}

test('sgemm: all four transpose cases, sizes across block edges, alpha and beta', () => {
  const k = kernels();
  // 530 > 512 columns and 133 > 128 depth cross the js blocking; 7 rows leave unrolling remainders
  for (const [M, N, K] of [
    [7, 530, 133],
    [5, 3, 2],
    [1, 1, 1],
    [9, 70, 4],
  ] as const) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const A = randn(M * K, 1);
        const B = randn(K * N, 2);
        const C0 = randn(M * N, 3);
        for (const [alpha, beta] of [
          [1, 0],
          [1, 1],
          [-0.5, 2],
        ] as const) {
          const C = C0.slice();
          k.sgemm(tA, tB, M, N, K, alpha, A, B, beta, C);
          assertClose(
            C,
            naiveGemm(tA, tB, M, N, K, alpha, A, B, beta, C0),
            1e-5,
            `sgemm ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${M}x${N}x${K} alpha=${alpha} beta=${beta}`,
          );
        }
      }
    }
  }
});

test('sgemm: beta = 0 ignores NaN in C; subarray views honour their offset', () => {
  const k = kernels();
  const A = randn(6, 4);
  const B = randn(6, 5);
  const C = new Float32Array(4).fill(NaN);
  k.sgemm(false, false, 2, 2, 3, 1, A, B.subarray(0, 6), 0, C);
  assertClose(C, naiveGemm(false, false, 2, 2, 3, 1, A, B, 0, C), 1e-6, 'beta=0 over NaN');
  const big = randn(20, 6);
  const view = big.subarray(8, 14); // byteOffset 32
  const C2 = new Float32Array(4);
  k.sgemm(false, true, 2, 2, 3, 1, view, view, 0, C2);
  assertClose(C2, naiveGemm(false, true, 2, 2, 3, 1, Array.from(view), Array.from(view), 0, C2), 1e-6, 'view');
});

test('sgemmBatched: per-batch strides, and stride 0 shares one matrix', () => {
  const k = kernels();
  const [batch, M, N, K] = [3, 4, 5, 6];
  const A = randn(batch * M * K, 7);
  const Bshared = randn(N * K, 8); // stored [N, K], used transposed by every batch entry
  const C = new Float32Array(batch * M * N);
  k.sgemmBatched(false, true, batch, M, N, K, 1, A, K, M * K, Bshared, K, 0, 0, C, N, M * N);
  for (let b = 0; b < batch; b++) {
    const expected = naiveGemm(false, true, M, N, K, 1, A.subarray(b * M * K, (b + 1) * M * K), Bshared, 0, []);
    assertClose(C.subarray(b * M * N, (b + 1) * M * N), expected, 1e-5, `batch ${b}`);
  }
  const B2 = randn(batch * K * N, 9);
  const C2 = randn(batch * M * N, 10);
  const before = C2.slice();
  k.sgemmBatched(true, false, batch, M, N, K, 2, A, M, M * K, B2, N, K * N, 1, C2, N, M * N);
  for (let b = 0; b < batch; b++) {
    const expected = naiveGemm(
      true,
      false,
      M,
      N,
      K,
      2,
      A.subarray(b * M * K, (b + 1) * M * K),
      B2.subarray(b * K * N, (b + 1) * K * N),
      1,
      before.subarray(b * M * N, (b + 1) * M * N),
    );
    assertClose(C2.subarray(b * M * N, (b + 1) * M * N), expected, 1e-5, `accumulating batch ${b}`);
  }
});

test('sgemmBatched with leading dimensions: heads of a [T, heads*hd] array read and written in place', () => {
  const k = kernels();
  const [heads, T, hd] = [2, 3, 4];
  const ld = heads * hd + 1; // one unused column per row, which must stay untouched
  const X = randn(T * ld, 21); // X[t, h*hd + c]
  const head = (M: Float32Array, h: number): Float32Array =>
    Float32Array.from({ length: T * hd }, (_, i) => M[Math.floor(i / hd) * ld + h * hd + (i % hd)]!);
  // S_h [T, T] = X_h @ X_h^T into dense blocks
  const S = new Float32Array(heads * T * T);
  k.sgemmBatched(false, true, heads, T, T, hd, 1, X, ld, hd, X, ld, hd, 0, S, T, T * T);
  for (let h = 0; h < heads; h++) {
    const Xh = head(X, h);
    assertClose(
      S.subarray(h * T * T, (h + 1) * T * T),
      naiveGemm(false, true, T, T, hd, 1, Xh, Xh, 0, []),
      1e-5,
      `S head ${h}`,
    );
  }
  // Y_h [T, hd] += S_h^T @ X_h, written into the heads of Y in place
  const Y = randn(T * ld, 22);
  const before = Y.slice();
  k.sgemmBatched(true, false, heads, T, hd, T, 1, S, T, T * T, X, ld, hd, 1, Y, ld, hd);
  for (let h = 0; h < heads; h++) {
    const want = naiveGemm(
      true,
      false,
      T,
      hd,
      T,
      1,
      S.subarray(h * T * T, (h + 1) * T * T),
      head(X, h),
      1,
      head(before, h),
    );
    assertClose(head(Y, h), want, 1e-5, `Y head ${h}`);
  }
  for (let t = 0; t < T; t++) assert.equal(Y[t * ld + ld - 1], before[t * ld + ld - 1], `unused column of row ${t}`);
});

test('rmsnorm and layernorm forward match their formulas; backward accumulates', () => {
  const k = kernels();
  const [R, C] = [3, 7];
  const x = randn(R * C, 11, 2);
  const w = randn(C, 12);
  const b = randn(C, 13);
  const out = new Float32Array(R * C);
  const rstd = new Float32Array(R);
  k.rmsnormForward(x, w, R, C, 1e-6, out, rstd);
  const mean = new Float32Array(R);
  const lnOut = new Float32Array(R * C);
  const lnRstd = new Float32Array(R);
  k.layernormForward(x, w, b, R, C, 1e-5, lnOut, mean, lnRstd);
  const expRms = new Float64Array(R * C);
  const expLn = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    const row = Array.from(x.subarray(r * C, (r + 1) * C));
    const ms = row.reduce((p, v) => p + v * v, 0) / C;
    const mu = row.reduce((p, v) => p + v, 0) / C;
    const va = row.reduce((p, v) => p + (v - mu) ** 2, 0) / C;
    for (let c = 0; c < C; c++) {
      expRms[r * C + c] = (row[c]! / Math.sqrt(ms + 1e-6)) * w[c]!;
      expLn[r * C + c] = ((row[c]! - mu) / Math.sqrt(va + 1e-5)) * w[c]! + b[c]!;
    }
  }
  assertClose(out, expRms, 1e-5, 'rmsnorm');
  assertClose(lnOut, expLn, 1e-5, 'layernorm');
  // accumulate: running the backward twice doubles dx, dw (and db)
  const dout = randn(R * C, 14);
  const dx1 = new Float32Array(R * C),
    dw1 = new Float32Array(C);
  const dx2 = new Float32Array(R * C),
    dw2 = new Float32Array(C);
  k.rmsnormBackward(dout, x, w, rstd, R, C, dx1, dw1);
  k.rmsnormBackward(dout, x, w, rstd, R, C, dx2, dw2);
  k.rmsnormBackward(dout, x, w, rstd, R, C, dx2, dw2);
  assertClose(
    dx2,
    dx1.map((v) => 2 * v),
    1e-6,
    'rmsnorm dx accumulates',
  );
  assertClose(
    dw2,
    dw1.map((v) => 2 * v),
    1e-6,
    'rmsnorm dw accumulates',
  );
  const db = Float32Array.of(1, 1, 1, 1, 1, 1, 1);
  k.layernormBackward(dout, x, w, mean, lnRstd, R, C, new Float32Array(R * C), new Float32Array(C), db);
  for (let c = 0; c < C; c++)
    assert.ok(
      Math.abs(db[c]! - (1 + dout[c]! + dout[C + c]! + dout[2 * C + c]!)) < 1e-5,
      `layernorm db[${c}] = 1 + column sum`,
    );
});

test('swiglu and gelu forward match their formulas; backward matches central differences', () => {
  const k = kernels();
  const n = 9;
  const g = randn(n, 15, 2);
  const u = randn(n, 16);
  const out = new Float32Array(n);
  k.swigluForward(g, u, n, out);
  assertClose(
    out,
    Array.from(g, (v, i) => (v / (1 + Math.exp(-v))) * u[i]!),
    1e-6,
    'swiglu',
  );
  k.geluForward(g, n, out);
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  assertClose(out, Array.from(g, gelu), 1e-6, 'gelu');
  const ones = new Float32Array(n).fill(1);
  const dx = new Float32Array(n);
  k.geluBackward(ones, g, n, dx);
  const h = 1e-4;
  assertClose(
    dx,
    Array.from(g, (v) => (gelu(v + h) - gelu(v - h)) / (2 * h)),
    1e-4,
    'gelu backward',
  );
  const dg = new Float32Array(n);
  const du = new Float32Array(n);
  k.swigluBackward(ones, g, u, n, dg, du);
  const silu = (v: number) => v / (1 + Math.exp(-v));
  assertClose(
    dg,
    Array.from(g, (v, i) => ((silu(v + h) - silu(v - h)) / (2 * h)) * u[i]!),
    1e-4,
    'swiglu dgate',
  );
  assertClose(du, Array.from(g, silu), 1e-5, 'swiglu dup');
});

test('causal softmax: rows are softmax over s <= t of scale * scores, zero above the diagonal', () => {
  const k = kernels();
  const [BH, T, scale] = [2, 4, 0.5];
  const scores = randn(BH * T * T, 17, 3);
  const p = scores.slice();
  k.causalSoftmaxForward(p, BH, T, scale);
  const expected = new Float64Array(BH * T * T);
  for (let r = 0; r < BH * T; r++) {
    const t = r % T;
    let z = 0;
    for (let s = 0; s <= t; s++) z += Math.exp(scale * scores[r * T + s]!);
    for (let s = 0; s <= t; s++) expected[r * T + s] = Math.exp(scale * scores[r * T + s]!) / z;
  }
  assertClose(p, expected, 1e-6, 'causal softmax');
  // backward, in place (dp and dscores the same array), against its formula
  const dp = randn(BH * T * T, 18);
  const ds = dp.slice();
  k.causalSoftmaxBackward(ds, p, BH, T, scale, ds);
  const expDs = new Float64Array(BH * T * T);
  for (let r = 0; r < BH * T; r++) {
    const t = r % T;
    let dot = 0;
    for (let s = 0; s <= t; s++) dot += dp[r * T + s]! * p[r * T + s]!;
    for (let s = 0; s <= t; s++) expDs[r * T + s] = scale * p[r * T + s]! * (dp[r * T + s]! - dot);
  }
  assertClose(ds, expDs, 1e-6, 'causal softmax backward');
});

test('logSoftmaxGather: gathered log-probs, lse, masked rows 0; backward accumulates and skips masked rows', () => {
  const k = kernels();
  const [R, V] = [3, 5];
  const logits = randn(R * V, 19, 4);
  logits[7] = 60; // large logit: the max shift keeps exp finite
  const targets = Int32Array.from([2, -1, 4]);
  const logp = new Float32Array(R);
  const lse = new Float32Array(R);
  k.logSoftmaxGather(logits, targets, R, V, logp, lse);
  const expLse = [0, 1, 2].map((r) =>
    Math.log(Array.from(logits.subarray(r * V, (r + 1) * V)).reduce((p, v) => p + Math.exp(v), 0)),
  );
  assertClose(lse, expLse, 1e-6, 'lse');
  assertClose(logp, [logits[2]! - expLse[0]!, 0, logits[14]! - expLse[2]!], 1e-6, 'logp');
  const dlogits = new Float32Array(R * V).fill(1);
  k.logSoftmaxGatherBackward(Float32Array.of(2, 5, -1), logits, targets, lse, R, V, dlogits);
  const expected = new Float64Array(R * V).fill(1);
  for (const [r, g] of [
    [0, 2],
    [2, -1],
  ] as const) {
    for (let v = 0; v < V; v++) expected[r * V + v]! -= g * Math.exp(logits[r * V + v]! - expLse[r]!);
    expected[r * V + targets[r]!]! += g;
  }
  assertClose(dlogits, expected, 1e-6, 'dlogits');
});

test('adamw: two steps equal the PyTorch update written out', () => {
  const k = kernels();
  const n = 4;
  const p = Float32Array.of(0.5, -1, 2, 0);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.99, 1e-8, 0.01];
  const ref = Array.from(p);
  const rm = new Array<number>(n).fill(0);
  const rv = new Array<number>(n).fill(0);
  for (let step = 1; step <= 2; step++) {
    const g = randn(n, 20 + step);
    k.adamw(p, g, m, v, n, lr, b1, b2, eps, wd, step);
    for (let i = 0; i < n; i++) {
      ref[i] = ref[i]! * (1 - lr * wd);
      rm[i] = b1 * rm[i]! + (1 - b1) * g[i]!;
      rv[i] = b2 * rv[i]! + (1 - b2) * g[i]! ** 2;
      ref[i]! -= (lr * (rm[i]! / (1 - b1 ** step))) / (Math.sqrt(rv[i]! / (1 - b2 ** step)) + eps);
    }
  }
  assertClose(p, ref, 1e-6, 'params');
  assertClose(m, rm, 1e-6, 'first moment');
  assertClose(v, rv, 1e-6, 'second moment');
});
