// Frozen weights kept 16-bit (F16/BF16): hgemm against sgemm on the F32-expanded weight on both kernel
// sets, the exact decode of every 16-bit value, the tensor's storage rules, and a whole BF16 model whose
// logits and input gradients equal those of the same model expanded to F32 within float32 rounding.
// Tolerances: two F32 sums of the same K products in different orders differ by at most
// 2 * K * u * sum|a_k b_k| (u = 2^-24, the unit roundoff; Higham's gamma_K bound for each order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../src/tensor/kernels/js/index.js';
import { loadNativeKernels, nativeBuildRecord } from '../src/tensor/kernels/native/load.js';
import { kernels, setKernels, type Kernels } from '../src/tensor/kernels/index.js';
import type { HalfDtype } from '../src/tensor/half.js';
import { bf16BitsToF32, f16BitsToF32, f32ToHalf, halfToF32 } from '../src/tensor/half.js';
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
): { config: ReturnType<typeof initConfig>; half: StoredWeights; f32: Weights } {
  const config = initConfig(
    arch,
    parseSizeSpec(arch === 'llama' ? 'd=32,layers=2,heads=4,kv=2' : 'd=32,layers=2,heads=4', arch),
    97,
  );
  const half: StoredWeights = new Map();
  const f32: Weights = new Map();
  for (const [name, w] of initWeights(config, 5)) {
    // Scaled up from the 0.02 init so the logits are O(1) and rounding differences would show.
    const values = w.data.map((v) => v * 20);
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
