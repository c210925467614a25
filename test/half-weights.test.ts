// Frozen weights kept 16-bit (F16/BF16): hgemm against sgemm on the F32-expanded weight on both kernel
// sets, the exact decode of every 16-bit value, the tensor's storage rules, and a whole BF16 model whose
// logits and input gradients equal those of the same model expanded to F32 within float32 rounding.
// Tolerances: two F32 sums of the same K products in different orders differ by at most
// 2 * K * u * sum|a_k b_k| (u = 2^-24, the unit roundoff; Higham's gamma_K bound for each order).
import { test } from 'node:test';
import { runWithThreads } from './helpers/child-threads.js';
import assert from 'node:assert/strict';
import { jsKernels } from '../src/tensor/kernels/js/index.js';
import { loadNativeKernels, nativeBuildRecord } from '../src/tensor/kernels/native/load.js';
import { kernels, matmulPrecision, setKernels, setMatmulPrecision, type Kernels } from '../src/tensor/kernels/index.js';
import { provenance } from '../src/tensor/kernels/provenance.js';
import type { HalfDtype } from '../src/tensor/half.js';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToHalf, halfToF32 } from '../src/tensor/half.js';
import { Tensor } from '../src/tensor/tensor.js';
import { backward, resetTape } from '../src/tensor/autograd.js';
import { embedding, linear, matmul, sum } from '../src/tensor/ops/index.js';
import { initConfig, initWeights, parseSizeSpec } from '../src/model/init.js';
import { modelFromWeights } from '../src/model/load.js';
import { LoraAdapter, PAPER_LORA } from '../src/model/lora.js';
import { modelPolicy } from '../src/train/model-policy.js';
import type { StoredWeights, Weights } from '../src/model/checkpoint.js';
import type { InitArch } from '../src/model/init.js';
import { Rng } from '../src/util/rng.js';

const U = 2 ** -24;
const loaded = loadNativeKernels();
const required =
  process.env.PREFDYN_REQUIRE_NATIVE === '1' || (process.env.CI === 'true' && (nativeBuildRecord()?.openblas ?? true));
const sets: { k: Kernels | undefined; skip: string | false }[] = [
  { k: jsKernels, skip: false },
  {
    k: loaded.kernels,
    skip: loaded.kernels || required ? false : `native kernels unavailable: ${loaded.reason}`,
  },
];
const nameOf = (s: { k: Kernels | undefined }) => s.k?.name ?? 'native';

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

/** |got - want| <= 2 K u bound + a few ulps of |want|, per element, with bound = sum_k |a_ik b_kj| (+ |beta C|). */
function assertWithinRounding(what: string, got: Float32Array, want: Float32Array, bound: Float32Array, K: number) {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    const tol = 2 * K * U * bound[i]! + 4 * U * Math.abs(want[i]!);
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) {
      assert.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]} within ${tol}`);
    }
  }
}

for (const set of sets) {
  for (const dtype of ['F16', 'BF16'] as HalfDtype[]) {
    test(`${nameOf(set)} hgemm ${dtype} with K = 0 scales C by beta, either layout`, { skip: set.skip }, () => {
      for (const transB of [true, false]) {
        const C = new Float32Array([NaN, 2, 3, 4]);
        set.k!.hgemm(dtype, transB, 2, 2, 0, 1, new Float32Array(0), new Uint16Array(0), 0, C);
        assert.deepEqual([...C], [0, 0, 0, 0], `transB=${transB}, beta 0`);
        const D = new Float32Array([1, 2]);
        set.k!.hgemm(dtype, transB, 1, 2, 0, 1, new Float32Array(0), new Uint16Array(0), 0.5, D);
        assert.deepEqual([...D], [0.5, 1], `transB=${transB}, beta 0.5`);
      }
    });

    test(`${nameOf(set)} hgemm decodes every finite ${dtype} value exactly`, { skip: set.skip }, () => {
      const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
      const want = Float32Array.from(bits, (b) => (dtype === 'F16' ? f16BitsToF32(b) : bf16BitsToF32(b)));
      const C = new Float32Array(65536);
      // C [1,65536] = [1] [1,1] @ B [1,65536]: one product per element, 1 * b = b exactly.
      set.k!.hgemm(dtype, false, 1, 65536, 1, 1, Float32Array.of(1), bits, 0, C);
      for (let i = 0; i < 65536; i++) {
        // === : the GEMM's sum starts at +0, so -0 comes out as +0 (equal values; the sign of zero is not kept).
        if (Number.isFinite(want[i]!))
          assert.ok(C[i] === want[i], `${dtype} bits 0x${i.toString(16)}: ${C[i]} != ${want[i]}`);
      }
    });

    // N*K > 2^18: more than one tile on both kernel sets; the last two have stored rows of 1500 floats, too
    // wide for 2^18 floats to hold the native kernel's minimum of 256 rows, so its first tile is those 256.
    for (const [transB, M, N, K] of [
      [true, 5, 611, 517],
      [false, 5, 611, 517],
      [true, 3, 300, 1500],
      [false, 3, 1500, 300],
    ] as const) {
      test(
        `${nameOf(set)} hgemm ${dtype} transB=${transB} ${M}x${N}x${K} equals sgemm on the expanded weight within rounding, over several tiles`,
        { skip: set.skip },
        () => {
          const k = set.k!;
          const rng = new Rng(transB ? 7 : 8);
          const A = randn(rng, M * K);
          const B = f32ToHalf(dtype, randn(rng, N * K, 0.5));
          const Bf = halfToF32(B);
          const C0 = randn(rng, M * N);
          const want = C0.slice();
          k.sgemm(false, transB, M, N, K, 0.75, A, Bf, 0.5, want);
          const got = C0.slice();
          k.hgemm(dtype, transB, M, N, K, 0.75, A, B.bits, 0.5, got);
          // bound[i,j] = 0.75 * sum_k |A[i,k]| |B[k,j]| + 0.5 |C0[i,j]|
          const bound = C0.map((c) => 0.5 * Math.abs(c));
          jsKernels.sgemm(false, transB, M, N, K, 0.75, A.map(Math.abs), Bf.map(Math.abs), 1, bound);
          assertWithinRounding('C', got, want, bound, K);
          assert.notDeepEqual(got, C0);
        },
      );
    }
  }
}

test('a 16-bit tensor converts to F32 when its data is read or it is made trainable, and not before', () => {
  const bits = f32ToHalf('BF16', Float32Array.of(1, -2, 0.5, 3));
  const t = new Tensor(bits, [2, 2], { name: 'w' });
  assert.equal(t.dtype, 'BF16');
  assert.equal(t.size, 4);
  assert.equal(t.stored, bits);
  assert.deepEqual([...t.data], [1, -2, 0.5, 3]);
  assert.equal(t.dtype, 'F32');
  assert.equal(t.half, undefined);

  const u = new Tensor(f32ToHalf('F16', Float32Array.of(1, 2)), [2]);
  u.requiresGrad = true;
  assert.equal(u.dtype, 'F32');
  assert.throws(() => new Tensor(f32ToHalf('F16', Float32Array.of(1, 2)), [3]), /2 values do not fill shape \[3\]/);
});

test('linear, matmul and embedding read a 16-bit weight as it is and pass gradients to their F32 input', () => {
  const rng = new Rng(11);
  const w32 = halfToF32(f32ToHalf('BF16', randn(rng, 6 * 4)));
  const run = (w: Tensor) => {
    const x = new Tensor(randn(new Rng(12), 3 * 4), [3, 4], { requiresGrad: true });
    const y = sum(linear(x, w));
    const z = sum(matmul(x, new Tensor(w.stored instanceof Float32Array ? w.data : w.stored, [4, 6])));
    backward(sum(linear(x, w)));
    resetTape();
    return { y: y.item(), z: z.item(), gx: x.grad!, e: embedding(w, Int32Array.of(5, 0), [2]).data };
  };
  const half = new Tensor(f32ToHalf('BF16', w32), [6, 4]);
  const got = run(half);
  assert.equal(half.dtype, 'BF16', 'the forward and backward kept the weight 16-bit');
  const want = run(new Tensor(w32, [6, 4]));
  assert.ok(Math.abs(got.y - want.y) <= 1e-5 * Math.abs(want.y) + 1e-6);
  assert.ok(Math.abs(got.z - want.z) <= 1e-5 * Math.abs(want.z) + 1e-6);
  for (let i = 0; i < want.gx.length; i++) assert.ok(Math.abs(got.gx[i]! - want.gx[i]!) <= 1e-6 * 8);
  assert.deepEqual([...got.e], [...w32.subarray(20, 24), ...w32.subarray(0, 4)]);
});

/** A random model's weights with every matrix rounded to `dtype`, as 16-bit storage and expanded to F32. */
function halfModelWeights(
  arch: InitArch,
  dtype: HalfDtype,
  scale = 20,
): { config: ReturnType<typeof initConfig>; half: StoredWeights; f32: Weights } {
  const config = initConfig(
    arch,
    parseSizeSpec(arch === 'llama' ? 'd=32,layers=2,heads=4,kv=2' : 'd=32,layers=2,heads=4', arch),
    97,
  );
  const half: StoredWeights = new Map();
  const f32: Weights = new Map();
  for (const [name, w] of initWeights(config, 5)) {
    // Scaled up from the 0.02 init (by default) so the logits are large and rounding differences would show.
    const values = w.data.map((v) => v * scale);
    if (w.shape.length === 2) {
      const h = f32ToHalf(dtype, values);
      half.set(name, { shape: w.shape, data: h });
      f32.set(name, { shape: w.shape, data: halfToF32(h) });
    } else {
      half.set(name, { shape: w.shape, data: values });
      f32.set(name, { shape: w.shape, data: values.slice() });
    }
  }
  return { config, half, f32 };
}

/** A [n] rounded to BF16 (nearest, ties to even), as F32. */
const toBf16 = (a: Float32Array) => a.map((x) => bf16BitsToF32(f32ToBf16Bits(x)));

for (const set of sets) {
  // The native kernel's edges: M not a multiple of its 8-row blocks (zero rows), N not a multiple of 32 (a
  // partial block of columns) and over 512 (two packed blocks of columns), K odd (a last pair completed by a
  // zero, in one packed block and after four) and over 256 (packed blocks of K accumulating onto the first);
  // 37x1000x517 is large enough for the native kernel to split its columns over the BLAS threads.
  for (const transB of [true, false]) {
    for (const [M, N, K] of [
      [5, 7, 45],
      [3, 9, 1101],
      [261, 6, 33],
      [37, 1000, 517],
      [4, 600, 96],
    ] as const) {
      test(
        `${nameOf(set)} bf16gemm transB=${transB} ${M}x${N}x${K} equals sgemm on the BF16-rounded A within rounding`,
        { skip: set.skip },
        () => {
          const k = set.k!;
          const rng = new Rng(M + N + K);
          const A = randn(rng, M * K);
          const B = f32ToHalf('BF16', randn(rng, N * K, 0.5));
          const Bf = halfToF32(B);
          const C0 = randn(rng, M * N);
          const want = C0.slice();
          k.sgemm(false, transB, M, N, K, 0.75, toBf16(A), Bf, 0.5, want);
          const got = C0.slice();
          k.bf16gemm(transB, M, N, K, 0.75, A, B.bits, 0.5, got);
          const bound = C0.map((c) => 0.5 * Math.abs(c));
          jsKernels.sgemm(false, transB, M, N, K, 0.75, A.map(Math.abs), Bf.map(Math.abs), 1, bound);
          assertWithinRounding('C', got, want, bound, K);
          // and A was rounded: the result is far closer to the exact product of the rounded A than to A's
          const exact = (a: Float32Array) =>
            C0.map((c, i) => {
              const [m, n] = [Math.floor(i / N), i % N];
              let sum = 0;
              for (let kk = 0; kk < K; kk++) sum += a[m * K + kk]! * Bf[transB ? n * K + kk : kk * N + n]!;
              return 0.75 * sum + 0.5 * c;
            });
          const [ofRounded, ofA] = [exact(toBf16(A)), exact(A)];
          const apart = (x: Float32Array, y: Float32Array) => Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
          assert.ok(
            10 * apart(got, ofRounded) < apart(ofA, ofRounded),
            `${apart(got, ofRounded)} from the rounded A's product, ${apart(ofA, ofRounded)} between the two`,
          );
        },
      );
    }

    test(
      `${nameOf(set)} bf16gemm transB=${transB} rounds A to nearest BF16 with ties to even; beta 0 ignores C; K = 0 scales C`,
      { skip: set.skip },
      () => {
        const k = set.k!;
        // C [6,1] = A [6,1] @ B [1,1] with B = 1: each element is its A rounded to BF16 (8 significant bits).
        const A = Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 1 + 2 ** -8 + 2 ** -20, 3.4e38, NaN);
        const one = f32ToHalf('BF16', Float32Array.of(1)).bits;
        const C = new Float32Array(6).fill(NaN);
        k.bf16gemm(transB, 6, 1, 1, 1, A, one, 0, C);
        assert.deepEqual([...C.slice(0, 5)], [1, 1 + 2 ** -6, -1, 1 + 2 ** -7, Infinity]);
        assert.ok(Number.isNaN(C[5]), 'NaN stays NaN');
        const D = Float32Array.of(2, 4);
        k.bf16gemm(transB, 1, 2, 0, 1, new Float32Array(0), new Uint16Array(0), 0.5, D);
        assert.deepEqual([...D], [1, 2]);
        // Rows of 40 (32 converted together, 8 in the tail) times the identity: C = bf16(A), ties included.
        const K = 40;
        const rng = new Rng(4);
        const ties = Float32Array.from({ length: 3 * K }, (_, i) =>
          i % 3 === 0 ? (1 + (2 * (i % 7) + 1) * 2 ** -8) * (i % 2 ? -1 : 1) : rng.normal(),
        );
        const identity = f32ToHalf(
          'BF16',
          Float32Array.from({ length: K * K }, (_, i) => (i % (K + 1) === 0 ? 1 : 0)),
        );
        const E = new Float32Array(3 * K);
        k.bf16gemm(transB, 3, K, K, 1, ties, identity.bits, 0, E);
        assert.deepEqual([...E], [...toBf16(ties)]);
      },
    );
  }
}

for (const set of sets) {
  for (const [arch, dtype] of [
    ['llama', 'BF16'],
    ['gpt2', 'F16'],
  ] as [InitArch, HalfDtype][]) {
    test(
      `${nameOf(set)}: a ${dtype} ${arch} model's logits equal its F32-expanded twin's within float32 rounding`,
      { skip: set.skip },
      () => {
        const before = kernels();
        setKernels(set.k!);
        try {
          const { config, half, f32 } = halfModelWeights(arch, dtype);
          const ids = Int32Array.from({ length: 2 * 7 }, (_, i) => (i * 37 + 5) % 97);
          const m16 = modelFromWeights(config, half);
          const got = m16.forward(ids, 2, 7).logits!.data;
          for (const [name, t] of m16.params()) {
            assert.equal(t.dtype, t.rank === 2 ? dtype : 'F32', `${name} kept in its stored type`);
          }
          const want = modelFromWeights(config, f32).forward(ids, 2, 7).logits!.data;
          // Same weights, same F32 arithmetic: only summation orders may differ. A bound through the network:
          // each of the ~3 GEMMs per layer (and lm_head) on the path may perturb by 2 K u relative, K <= ffn.
          const K = config.intermediateSize;
          const gemms = 3 * config.numHiddenLayers + 1;
          const scale = Math.max(...want.map(Math.abs));
          const tol = gemms * 2 * K * U * scale;
          assert.ok(tol < 1e-3 * scale, `the tolerance ${tol} is a meaningful test`);
          let worst = 0;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
          assert.ok(worst <= tol, `max |logit difference| ${worst} > ${tol}`);
          assert.ok(scale > 0.5, `logits of size ${scale} exercise the bound`);
        } finally {
          setKernels(before);
        }
      },
    );
  }
}

test('the bf16 matmul precision: the logits of a BF16 model move by BF16 rounding of its activations, alike on both kernel sets, and provenance says so', () => {
  const before = kernels();
  const precisionBefore = matmulPrecision();
  // At the init's scale: 20 times larger weights make the network chaotic enough that BF16 rounding moves logits by 30%.
  const { config, half } = halfModelWeights('llama', 'BF16', 1);
  const ids = Int32Array.from({ length: 2 * 7 }, (_, i) => (i * 37 + 5) % 97);
  const logits = (k: Kernels, p: 'f32' | 'bf16') => {
    setKernels(k);
    setMatmulPrecision(p);
    try {
      return { logits: modelFromWeights(config, half).forward(ids, 2, 7).logits!.data, matmul: provenance().matmul };
    } finally {
      setKernels(before);
      setMatmulPrecision(precisionBefore);
    }
  };
  const f32 = logits(jsKernels, 'f32');
  const js = logits(jsKernels, 'bf16');
  assert.equal(f32.matmul, 'f32');
  assert.equal(js.matmul, 'bf16');
  const scale = Math.max(...f32.logits.map(Math.abs));
  const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
  // Each of the 7 products per layer (and lm_head) rounds its input to 8 significant bits (relative 2^-8 at most):
  // a few 2^-9 of the logits' scale through 2 layers.
  const moved = maxDiff(js.logits, f32.logits);
  assert.ok(moved > 1e-5 * scale && moved < 16 * 2 ** -9 * scale, `bf16 moved the logits by ${moved} (scale ${scale})`);
  if (!sets[1]!.k) return;
  // The two kernel sets round the same activations, but an activation computed in a different summation
  // order can land on the other side of a rounding boundary.
  const native = logits(sets[1]!.k, 'bf16');
  assert.match(native.matmul ?? '', /^bf16( \(AVX512-BF16\))?$/);
  const apart = maxDiff(native.logits, js.logits);
  assert.ok(apart < 4 * 2 ** -9 * scale, `native and js bf16 logits differ by ${apart} (scale ${scale})`);
});

test('the bf16 matmul precision reaches the backward: the gradient through a frozen BF16 weight is bf16gemm of the rounded gradient', () => {
  const [kernelsBefore, precisionBefore] = [kernels(), matmulPrecision()];
  setKernels(jsKernels);
  setMatmulPrecision('bf16');
  try {
    const rng = new Rng(13);
    const w = f32ToHalf('BF16', randn(rng, 6 * 4));
    const v = randn(rng, 6); // the next layer's weight [1,6]: the gradient reaching linear's output is v in every row
    const x = new Tensor(randn(rng, 3 * 4), [3, 4], { requiresGrad: true });
    const y = linear(x, new Tensor(w, [6, 4]));
    backward(sum(linear(y, new Tensor(v, [1, 6]))));
    const g = Float32Array.from({ length: 3 * 6 }, (_, i) => v[i % 6]!);
    const forward = new Float32Array(3 * 6);
    jsKernels.bf16gemm(true, 3, 6, 4, 1, x.data, w.bits, 0, forward);
    assert.deepEqual([...y.data], [...forward], 'forward: x @ w^T through bf16gemm');
    const want = new Float32Array(3 * 4);
    jsKernels.bf16gemm(false, 3, 4, 6, 1, g, w.bits, 0, want);
    assert.deepEqual([...x.grad!], [...want], 'backward: dx = g @ w through bf16gemm');
    const f32 = new Float32Array(3 * 4);
    jsKernels.hgemm('BF16', false, 3, 4, 6, 1, g, w.bits, 0, f32);
    assert.notDeepEqual([...x.grad!], [...f32], 'g was rounded to BF16');
  } finally {
    resetTape();
    setKernels(kernelsBefore);
    setMatmulPrecision(precisionBefore);
  }
});

test(
  'native bf16gemm: the same bits on 1, 2 and 3 threads, call after call of its kept worker threads',
  {
    // without AVX512-BF16 bf16gemm is BLAS's sgemm, whose sums may depend on the thread count (Haswell's do)
    skip:
      sets[1]!.skip ||
      (loaded.blas?.bf16Dot ? false : 'the CPU has no AVX512-BF16 (bf16gemm is then sgemm on the rounded A)'),
  },
  () => {
    // A child per thread count: the BLAS threads are set once, when the native kernels load. Each child runs
    // the two layouts twice, with products of other shapes between (one too small to split), so the workers
    // kept from one call run the next.
    const script = `
      import { loadNativeKernels } from ${JSON.stringify(new URL('../src/tensor/kernels/native/load.js', import.meta.url).href)};
      import { createHash } from 'node:crypto';
      const k = loadNativeKernels().kernels;
      const product = (transB, M, N, K) => {
        const A = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
        const B = Uint16Array.from({ length: N * K }, (_, i) => 0x3c00 + ((i * 7919) % 1024));
        const C = new Float32Array(M * N);
        k.bf16gemm(transB, M, N, K, 1, A, B, 0, C);
        return createHash('sha256').update(C).digest('hex');
      };
      const out = [];
      for (let pass = 0; pass < 2; pass++) {
        out.push(product(true, 37, 1000, 517), product(false, 37, 1000, 517));
        out.push(product(true, 9, 70, 33), product(false, 64, 257, 300));
      }
      console.log(loadNativeKernels().blas.threads, out.join(' '));`;
    const [one, two, three] = [runWithThreads(script, '1'), runWithThreads(script, '2'), runWithThreads(script, '3')];
    assert.deepEqual([one[0], two[0], three[0]], ['1', '2', '3'], 'the children ran with 1, 2 and 3 BLAS threads');
    assert.deepEqual(one.slice(5), one.slice(1, 5), 'the second pass repeats the first');
    assert.deepEqual(two.slice(1), one.slice(1));
    assert.deepEqual(three.slice(1), one.slice(1));
  },
);

test('a LoRA step on a BF16 base keeps every base weight 16-bit and trains F32 adapter matrices', () => {
  const { config, half } = halfModelWeights('llama', 'BF16');
  const model = modelFromWeights(config, half);
  const adapter = LoraAdapter.create(model, { ...PAPER_LORA, dropout: 0 }, new Rng(3));
  adapter.attachTo(model);
  const tokens = [
    { prompt: Int32Array.of(1, 2, 3), chosen: Int32Array.of(4), rejected: Int32Array.of(5) },
    { prompt: Int32Array.of(6, 7), chosen: Int32Array.of(8, 9), rejected: Int32Array.of(10) },
  ];
  const policy = modelPolicy({
    model,
    tokens,
    adapter,
    description: '',
    save: async () => {},
    gradientCheckpointing: false,
  });
  policy.logps([0, 1], true, new Rng(1));
  policy.backward(Float64Array.of(1, -1), Float64Array.of(-1, 1));
  assert.equal(policy.weightNorms()['weights/unembed_delta_norm'], 0);
  for (const [name, t] of model.params()) assert.equal(t.dtype, t.rank === 2 ? 'BF16' : 'F32', name);
  // B starts at 0, so only the lora_B matrices receive gradient on the first step (through the 16-bit base).
  const moved = policy.params.filter((p) => p.grad.some((g) => g !== 0)).map((p) => p.name);
  assert.ok(moved.length > 0 && moved.every((n) => n.includes('lora_B')), moved.join(', '));
  for (const t of adapter.params().values()) assert.equal(t.dtype, 'F32');
});
