// The native kernels against the TypeScript reference (jsKernels), kernel by kernel, within 1e-5
// relative, on random inputs with odd sizes, subarray views at offsets, batched strides of 0 and masked
// targets; plus the argument checks that keep a caller's bug from writing out of bounds.
// Skipped when the addon is not built, except where it must be: PREFDYN_REQUIRE_NATIVE=1, or CI=true
// on a machine where the build found OpenBLAS (build/native-build.json), makes a missing addon a failure.
import { test } from 'node:test';
import { runWithThreads } from './helpers/child-threads.js';
import assert from 'node:assert/strict';
import { jsKernels } from '../src/tensor/kernels/js/index.js';
import { loadNativeKernels, nativeBuildRecord } from '../src/tensor/kernels/native/load.js';
import type { Kernels } from '../src/tensor/kernels/types.js';
import { Rng } from '../src/util/rng.js';

const loaded = loadNativeKernels();
const record = nativeBuildRecord();
const required =
  process.env.PREFDYN_REQUIRE_NATIVE === '1' || (process.env.CI === 'true' && (record?.openblas ?? true));
const skip = loaded.kernels || required ? false : `native kernels unavailable: ${loaded.reason}`;

test('the native kernels load where they are required', () => {
  assert.ok(
    loaded.kernels || !required,
    `native kernels required (PREFDYN_REQUIRE_NATIVE=1 or CI with OpenBLAS) but ${loaded.reason}`,
  );
});

function nk(): Kernels {
  assert.ok(loaded.kernels, loaded.reason);
  return loaded.kernels;
}

const rng = new Rng(20240711);

/** n normal values in a fresh array, placed at element `offset` of a larger buffer (a subarray view). */
function randn(n: number, offset = 0, scale = 1): Float32Array {
  const buf = new Float32Array(offset + n + 3);
  for (let i = 0; i < buf.length; i++) buf[i] = rng.normal() * scale;
  return buf.subarray(offset, offset + n);
}

function copy(a: Float32Array, offset = 0): Float32Array {
  const buf = new Float32Array(offset + a.length + 2);
  buf.fill(12345);
  const view = buf.subarray(offset, offset + a.length);
  view.set(a);
  return view;
}

/** max |got - want| / max |want|: the error relative to the array's scale (exact zeros must match exactly). */
function assertClose(got: Float32Array, want: Float32Array, what: string, tol = 1e-5): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let maxWant = 0;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]!) === Number.isFinite(want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
    maxWant = Math.max(maxWant, Math.abs(want[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
  }
  assert.ok(maxDiff <= tol * maxWant, `${what}: max difference ${maxDiff} exceeds ${tol} x ${maxWant}`);
}

/** Runs `call` on both kernel sets with copies of `arrays` (at different offsets), then compares every array. */
function compareBoth(
  what: string,
  arrays: Record<string, Float32Array>,
  call: (k: Kernels, a: Record<string, Float32Array>) => void,
  tol?: number,
): void {
  const forJs = Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, copy(v)]));
  const forNative = Object.fromEntries(Object.entries(arrays).map(([k, v], i) => [k, copy(v, 1 + i)]));
  call(jsKernels, forJs);
  call(nk(), forNative);
  for (const name of Object.keys(arrays)) assertClose(forNative[name]!, forJs[name]!, `${what}: ${name}`, tol);
}

test('sgemm matches the TypeScript kernels for every transpose, beta 0 (ignoring NaN) and beta 1', { skip }, () => {
  for (const [M, N, K] of [
    [7, 5, 13],
    [33, 17, 65],
    [1, 64, 3],
  ] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const nanC = new Float32Array(M * N).fill(NaN);
        const arrays = { A: randn(M * K, 3), B: randn(K * N, 5), C: nanC, D: randn(M * N) };
        compareBoth(`sgemm ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${M}x${N}x${K}`, arrays, (k, a) => {
          k.sgemm(transA, transB, M, N, K, 0.7, a.A!, a.B!, 0, a.C!);
          k.sgemm(transA, transB, M, N, K, -1.3, a.A!, a.B!, 1, a.D!);
        });
      }
    }
  }
});

test('sgemm equals the textbook triple loop, transposes read in place', { skip }, () => {
  const [M, N, K] = [3, 4, 5];
  const A = randn(K * M),
    B = randn(N * K),
    C = new Float32Array(M * N);
  nk().sgemm(true, true, M, N, K, 1, A, B, 0, C);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[k * M + i]! * B[j * K + k]!;
      assert.ok(Math.abs(C[i * N + j]! - s) <= 1e-5 * (1 + Math.abs(s)), `C[${i},${j}] = ${C[i * N + j]}, want ${s}`);
    }
  }
});

test(
  'smallProductsOnOneThread: small products as on one BLAS thread, larger ones and the thread count as before',
  {
    skip:
      skip ||
      (loaded.blas && (loaded.blas.parallel !== 'pthreads' || !loaded.blas.config.includes('NO_AFFINITY'))
        ? "the setting applies to OpenBLAS's pthreads builds without CPU affinity only"
        : false),
  },
  () => {
    // Children with 1 and 2 BLAS threads: a product under 2^24 multiply-adds with the setting on must equal the
    // single-threaded one; a larger product afterwards must be the 2-thread child's own (the count restored).
    // With some OpenBLAS cores (Haswell's) the thread count changes a product's sums, so this can tell; with
    // others (SkylakeX's, Cooperlake's small-matrix kernels) the small products are single-threaded anyway.
    const script = `
      import { loadNativeKernels } from ${JSON.stringify(new URL('../src/tensor/kernels/native/load.js', import.meta.url).href)};
      import { createHash } from 'node:crypto';
      const k = loadNativeKernels().kernels;
      const product = (M, N, K) => {
        const A = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
        const B = Float32Array.from({ length: K * N }, (_, i) => Math.cos(3 * i));
        const C = new Float32Array(M * N);
        k.sgemm(false, true, M, N, K, 1, A, B, 0, C);
        return createHash('sha256').update(C).digest('hex').slice(0, 16);
      };
      const large = () => product(300, 300, 300);
      const before = large();
      k.smallProductsOnOneThread(true);
      const small = [product(104, 896, 8), product(104, 8, 896), product(37, 1000, 300)];
      const after = large();
      k.smallProductsOnOneThread(false);
      console.log(loadNativeKernels().blas.threads, before, after, ...small);`;
    const [one, two] = [runWithThreads(script, '1'), runWithThreads(script, '2')];
    assert.deepEqual([one[0], two[0]], ['1', '2'], 'the children ran with 1 and 2 BLAS threads');
    assert.equal(two[2], two[1], 'a large product after small ones is computed as before them');
    assert.deepEqual(two.slice(3), one.slice(3), 'the small products are the single-threaded ones');
    // PREFDYN_MATMUL_PRECISION=bf16 turns the setting on for the chosen set where bf16gemm has its own threads
    const viaIndex = runWithThreads(
      `import { kernels, matmulPrecision } from ${JSON.stringify(new URL('../src/tensor/kernels/index.js', import.meta.url).href)};
      import { createHash } from 'node:crypto';
      const k = kernels();
      if (matmulPrecision() !== 'bf16') throw new Error('precision');
      const A = Float32Array.from({ length: 104 * 8 }, (_, i) => Math.sin(i));
      const B = Float32Array.from({ length: 896 * 8 }, (_, i) => Math.cos(3 * i));
      const C = new Float32Array(104 * 896);
      k.sgemm(false, true, 104, 896, 8, 1, A, B, 0, C);
      console.log(createHash('sha256').update(C).digest('hex').slice(0, 16));`,
      '2',
      { PREFDYN_KERNELS: 'native', PREFDYN_MATMUL_PRECISION: 'bf16' },
    );
    // (without AVX512-BF16, bf16gemm is BLAS itself and the setting stays off)
    if (loaded.blas?.bf16Dot) assert.deepEqual(viaIndex, [one[3]], 'under bf16, a small product as on one thread');
  },
);

test('sgemm with K = 0 scales C by beta; M = 0 touches nothing', { skip }, () => {
  const C = new Float32Array([NaN, 2, 3, 4]);
  nk().sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0, C);
  assert.deepEqual([...C], [0, 0, 0, 0]);
  const D = new Float32Array([1, 2]);
  nk().sgemm(false, false, 1, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0.5, D);
  assert.deepEqual([...D], [0.5, 1]);
  const E = new Float32Array([7]);
  nk().sgemm(false, false, 0, 1, 3, 1, new Float32Array(0), new Float32Array(3), 0, E);
  assert.deepEqual([...E], [7]);
});

test('sgemmBatched matches, including stride 0 (one matrix shared by every batch entry)', { skip }, () => {
  const [batch, M, N, K] = [3, 6, 5, 7];
  for (const [transA, transB, sA, sB] of [
    [false, false, M * K, K * N],
    [false, true, M * K, 0],
    [true, false, 0, K * N],
    [true, true, M * K + 2, K * N + 1],
  ] as const) {
    const arrays = { A: randn(sA * (batch - 1) + M * K), B: randn(sB * (batch - 1) + K * N), C: randn(batch * M * N) };
    compareBoth(`sgemmBatched ${transA}/${transB} strides ${sA},${sB}`, arrays, (k, a) =>
      k.sgemmBatched(
        transA,
        transB,
        batch,
        M,
        N,
        K,
        0.5,
        a.A!,
        transA ? M : K,
        sA,
        a.B!,
        transB ? K : N,
        sB,
        1,
        a.C!,
        N,
        M * N,
      ),
    );
  }
});

test(
  'sgemmBatched reads and writes matrices in place through leading dimensions (heads of a [T, heads*hd] array)',
  { skip },
  () => {
    // 3 heads of hd = 4 side by side in rows of ld = 13 (one unused column that must stay untouched);
    // "dense" operands are [T, T] blocks T*T apart. The cases are attention's: S = Q K^T, O = P V, dV = P^T dO.
    const [heads, T, hd, ld] = [3, 5, 4, 13];
    const headsLen = (heads - 1) * hd + (T - 1) * ld + hd;
    const denseLen = heads * T * T;
    const cases = [
      {
        name: 'Q K^T',
        tA: false,
        tB: true,
        M: T,
        N: T,
        K: hd,
        lda: ld,
        sA: hd,
        aLen: headsLen,
        ldc: T,
        sC: T * T,
        cLen: denseLen,
      },
      {
        name: 'P V',
        tA: false,
        tB: false,
        M: T,
        N: hd,
        K: T,
        lda: T,
        sA: T * T,
        aLen: denseLen,
        ldc: ld,
        sC: hd,
        cLen: headsLen,
      },
      {
        name: 'P^T dO',
        tA: true,
        tB: false,
        M: T,
        N: hd,
        K: T,
        lda: T,
        sA: T * T,
        aLen: denseLen,
        ldc: ld,
        sC: hd,
        cLen: headsLen,
      },
    ];
    for (const c of cases) {
      compareBoth(`sgemmBatched ${c.name}`, { A: randn(c.aLen), B: randn(headsLen), C: randn(c.cLen) }, (k, a) =>
        k.sgemmBatched(c.tA, c.tB, heads, c.M, c.N, c.K, 0.5, a.A!, c.lda, c.sA, a.B!, ld, hd, 1, a.C!, c.ldc, c.sC),
      );
    }
  },
);

test('RMSNorm forward and backward (accumulating) match', { skip }, () => {
  const [R, C] = [5, 37];
  const x = randn(R * C, 0, 3),
    w = randn(C),
    dout = randn(R * C);
  compareBoth(
    'rmsnorm',
    { x, w, out: new Float32Array(R * C), rstd: new Float32Array(R), dout, dx: randn(R * C), dw: randn(C) },
    (k, a) => {
      k.rmsnormForward(a.x!, a.w!, R, C, 1e-5, a.out!, a.rstd!);
      k.rmsnormBackward(a.dout!, a.x!, a.w!, a.rstd!, R, C, a.dx!, a.dw!);
    },
  );
});

test('LayerNorm forward and backward (accumulating) match', { skip }, () => {
  const [R, C] = [4, 29];
  const x = randn(R * C, 0, 2),
    w = randn(C),
    b = randn(C),
    dout = randn(R * C);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + 5; // an offset mean, where a naive variance loses digits
  compareBoth(
    'layernorm',
    {
      x,
      w,
      b,
      out: new Float32Array(R * C),
      mean: new Float32Array(R),
      rstd: new Float32Array(R),
      dout,
      dx: randn(R * C),
      dw: randn(C),
      db: randn(C),
    },
    (k, a) => {
      k.layernormForward(a.x!, a.w!, a.b!, R, C, 1e-5, a.out!, a.mean!, a.rstd!);
      k.layernormBackward(a.dout!, a.x!, a.w!, a.mean!, a.rstd!, R, C, a.dx!, a.dw!, a.db!);
    },
  );
});

test('SwiGLU and GELU forward and backward match', { skip }, () => {
  const n = 1001;
  const extremes = (a: Float32Array): Float32Array => (a.set([100, -100, 60, -60, 0]), a); // saturated exp and tanh
  compareBoth(
    'swiglu',
    {
      gate: extremes(randn(n, 0, 4)),
      up: randn(n),
      out: new Float32Array(n),
      dout: randn(n),
      dgate: randn(n),
      dup: randn(n),
    },
    (k, a) => {
      k.swigluForward(a.gate!, a.up!, n, a.out!);
      k.swigluBackward(a.dout!, a.gate!, a.up!, n, a.dgate!, a.dup!);
    },
  );
  compareBoth(
    'gelu',
    { x: extremes(randn(n, 0, 4)), out: new Float32Array(n), dout: randn(n), dx: randn(n) },
    (k, a) => {
      k.geluForward(a.x!, n, a.out!);
      k.geluBackward(a.dout!, a.x!, n, a.dx!);
    },
  );
});

test('causal softmax forward and backward match, with dp and dscores aliased', { skip }, () => {
  const [BH, T, scale] = [3, 9, 0.35];
  const n = BH * T * T;
  compareBoth(
    'causal softmax',
    { p: randn(n, 0, 5), dp: randn(n), dscores: new Float32Array(n).fill(NaN), same: randn(n) },
    (k, a) => {
      k.causalSoftmaxForward(a.p!, BH, T, scale);
      k.causalSoftmaxBackward(a.dp!, a.p!, BH, T, scale, a.dscores!);
      k.causalSoftmaxBackward(a.same!, a.p!, BH, T, scale, a.same!);
    },
  );
});

test('log-softmax + gather forward and backward match; masked rows give 0 and get no gradient', { skip }, () => {
  const [R, V] = [6, 1003];
  const targets = new Int32Array([5, -1, 1002, 0, -1, 77]);
  const logits = randn(R * V, 0, 6);
  logits.fill(-200, 3 * V, 3 * V + 100); // far below the row's max: exp underflows
  const arrays = {
    logits,
    logp: new Float32Array(R).fill(NaN),
    lse: new Float32Array(R),
    dlogp: randn(R),
    dlogits: randn(R * V),
  };
  const before = arrays.dlogits.slice();
  compareBoth('logSoftmaxGather', arrays, (k, a) => {
    k.logSoftmaxGather(a.logits!, targets, R, V, a.logp!, a.lse!);
    k.logSoftmaxGatherBackward(a.dlogp!, a.logits!, targets, a.lse!, R, V, a.dlogits!);
  });
  const logp = new Float32Array(R),
    lse = new Float32Array(R),
    dlogits = before.slice();
  nk().logSoftmaxGather(arrays.logits, targets, R, V, logp, lse);
  nk().logSoftmaxGatherBackward(arrays.dlogp, arrays.logits, targets, lse, R, V, dlogits);
  assert.equal(logp[1], 0);
  assert.deepEqual(dlogits.subarray(V, 2 * V), before.subarray(V, 2 * V));
  assert.deepEqual(dlogits.subarray(4 * V, 5 * V), before.subarray(4 * V, 5 * V));
});

test('AdamW matches over three steps with weight decay', { skip }, () => {
  const n = 1000;
  compareBoth(
    'adamw',
    { p: randn(n), g1: randn(n), g2: randn(n), g3: randn(n), m: new Float32Array(n), v: new Float32Array(n) },
    (k, a) => {
      for (const [step, g] of [
        [1, a.g1!],
        [2, a.g2!],
        [3, a.g3!],
      ] as const)
        k.adamw(a.p!, g, a.m!, a.v!, n, 1e-3, 0.9, 0.999, 1e-8, 0.1, step);
    },
  );
});

test(
  'arrays too short, wrong types and bad targets throw errors naming the kernel and argument, writing nothing',
  { skip },
  () => {
    const k = nk();
    assert.throws(
      () => k.sgemm(false, false, 3, 4, 2, 1, new Float32Array(6), new Float32Array(8), 0, new Float32Array(11)),
      { name: 'RangeError', message: 'native sgemm: C is too short: 11 elements, needs at least 12' },
    );
    assert.throws(
      () =>
        k.sgemmBatched(
          false,
          false,
          2,
          2,
          2,
          2,
          1,
          new Float32Array(4),
          2,
          4,
          new Float32Array(4),
          2,
          0,
          0,
          new Float32Array(8),
          2,
          4,
        ),
      { name: 'RangeError', message: 'native sgemmBatched: A is too short: 4 elements, needs at least 8' },
    );
    // rows 3 apart: the second matrix of A spans 4 + (2-1)*3 + 2 = 9 elements
    assert.throws(
      () =>
        k.sgemmBatched(
          false,
          false,
          2,
          2,
          2,
          2,
          1,
          new Float32Array(8),
          3,
          4,
          new Float32Array(4),
          2,
          0,
          0,
          new Float32Array(8),
          2,
          4,
        ),
      { name: 'RangeError', message: 'native sgemmBatched: A is too short: 8 elements, needs at least 9' },
    );
    assert.throws(
      () =>
        k.sgemmBatched(
          false,
          true,
          1,
          2,
          2,
          3,
          1,
          new Float32Array(6),
          3,
          0,
          new Float32Array(6),
          2,
          0,
          0,
          new Float32Array(4),
          2,
          0,
        ),
      { name: 'RangeError', message: 'native sgemmBatched: ldb = 2 is less than the stored row length 3' },
    );
    assert.throws(
      () =>
        k.rmsnormForward(
          new Float32Array(6),
          new Float32Array(3),
          2,
          3,
          1e-5,
          new Float32Array(6),
          new Float32Array(1),
        ),
      { name: 'RangeError', message: 'native rmsnormForward: rstd is too short: 1 elements, needs at least 2' },
    );
    assert.throws(() => k.geluForward(new Float64Array(4) as unknown as Float32Array, 4, new Float32Array(4)), {
      name: 'TypeError',
      message: 'native geluForward: x must be a Float32Array',
    });
    assert.throws(() => k.swigluForward(new Float32Array(4), new Float32Array(4), 2.5, new Float32Array(4)), {
      name: 'RangeError',
      message: 'native swigluForward: n must be an integer in [0, 2^31), got 2.5',
    });
    const logp = new Float32Array([9, 9]);
    assert.throws(
      () => k.logSoftmaxGather(new Float32Array(6), new Int32Array([0, 3]), 2, 3, logp, new Float32Array(2)),
      {
        name: 'RangeError',
        message: 'native logSoftmaxGather: targets[1] = 3 is outside [-1, V) with V = 3 (-1 marks a masked row)',
      },
    );
    assert.deepEqual([...logp], [9, 9]);
    assert.throws(
      () =>
        k.adamw(
          new Float32Array(1),
          new Float32Array(1),
          new Float32Array(1),
          new Float32Array(1),
          1,
          1e-3,
          0.9,
          0.999,
          1e-8,
          0,
          0,
        ),
      { name: 'RangeError', message: 'native adamw: step must be >= 1 (the first step is 1), got 0' },
    );
  },
);
