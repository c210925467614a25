// Ops against closed forms and independent references: values, not only gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/tensor/tensor.js';
import { backward, resetTape } from '../src/tensor/autograd.js';
import * as ops from '../src/tensor/ops/index.js';
import { erf } from '../src/tensor/ops/activations.js';
import { Rng } from '../src/util/rng.js';

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)))) {
      assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

function randn(shape: number[], seed: number, requiresGrad = false): Tensor {
  return Tensor.randn(shape, new Rng(seed), 1, { requiresGrad });
}

/**
 * Causal GQA attention with plain float64 loops, indices as in HF (q [B,T,H,hd], kv head = h / (H/Hkv));
 * with options: score = c tanh(scale q.k / c); with a window W, query t sees keys t - W < s <= t
 * (transformers' sliding_window_overlay).
 */
function naiveAttention(q: Tensor, k: Tensor, v: Tensor, opts: ops.AttentionOptions = {}): Float64Array {
  const [B, T, H, hd] = q.shape as [number, number, number, number];
  const Hkv = k.shape[2]!;
  const out = new Float64Array(q.size);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / Hkv));
      for (let t = 0; t < T; t++) {
        const first = Math.max(0, t - (opts.window ?? Infinity) + 1);
        const w: number[] = [];
        for (let s = first; s <= t; s++) {
          let dot = 0;
          for (let c = 0; c < hd; c++)
            dot += q.data[((b * T + t) * H + h) * hd + c]! * k.data[((b * T + s) * Hkv + g) * hd + c]!;
          let score = dot * (opts.scale ?? 1 / Math.sqrt(hd));
          if (opts.softcap !== undefined) score = opts.softcap * Math.tanh(score / opts.softcap);
          w.push(Math.exp(score));
        }
        const z = w.reduce((p, x) => p + x, 0);
        for (let s = first; s <= t; s++)
          for (let c = 0; c < hd; c++) {
            out[((b * T + t) * H + h) * hd + c]! += (w[s - first]! / z) * v.data[((b * T + s) * Hkv + g) * hd + c]!;
          }
      }
    }
  return out;
}

test('linear and matmul on a hand-computed example', () => {
  const x = Tensor.fromArray([1, 2, 3, 4], [2, 2]);
  const w = Tensor.fromArray([1, 0, 1, 1, 0, 2], [3, 2]); // [N=3, K=2]
  const b = Tensor.fromArray([10, 20, 30]);
  assert.deepEqual([...ops.linear(x, w, b).data], [11, 23, 34, 13, 27, 38]);
  assert.deepEqual(ops.linear(Tensor.zeros([2, 5, 2]), w).shape, [2, 5, 3]);
  const m = Tensor.fromArray([1, 0, 1, 0, 1, 2], [2, 3]); // [K=2, N=3]
  assert.deepEqual([...ops.matmul(x, m).data], [1, 2, 5, 3, 4, 11]);
  assert.throws(() => ops.linear(x, Tensor.zeros([3, 4], { name: 'q_proj.weight' })), {
    message: 'linear: weight q_proj.weight [3, 4] must be [out, 2] to match input tensor [2, 2]',
  });
});

test('causalAttention equals a naive float64 reference (GQA, B=2, T=5)', () => {
  const q = randn([2, 5, 6, 4], 1);
  const k = randn([2, 5, 3, 4], 2);
  const v = randn([2, 5, 3, 4], 3);
  close(ops.causalAttention(q, k, v).data, naiveAttention(q, k, v), 1e-5, 'attention');
});

test('causalAttention with a sliding window: query t sees the window latest keys, itself included', () => {
  const q = randn([2, 7, 4, 4], 4);
  const k = randn([2, 7, 2, 4], 5);
  const v = randn([2, 7, 2, 4], 6);
  for (const window of [1, 3, 6]) {
    close(ops.causalAttention(q, k, v, { window }).data, naiveAttention(q, k, v, { window }), 1e-5, `window ${window}`);
  }
  // Window 1: each position attends to itself only, so its output is its own value row.
  const own = ops.causalAttention(q, k, v, { window: 1 }).data;
  close(own.subarray(0, 4), v.data.subarray(0, 4), 1e-6, 'window 1');
  // A window as long as the sequence (or longer) is plain causal attention, computed the same way.
  assert.deepEqual(ops.causalAttention(q, k, v, { window: 7 }).data, ops.causalAttention(q, k, v).data);
  assert.throws(() => ops.causalAttention(q, k, v, { window: 0 }), {
    message: 'causalAttention: window must be a positive integer, got 0',
  });
});

test('causalAttention with a scale and soft-capping (and a window) equals the naive reference', () => {
  const q = randn([2, 7, 4, 4], 21);
  const k = randn([2, 7, 2, 4], 22);
  const v = randn([2, 7, 2, 4], 23);
  for (const opts of [{ scale: 0.9 }, { softcap: 0.5 }, { scale: 0.7, softcap: 1.5, window: 2 }]) {
    const got = ops.causalAttention(q, k, v, opts).data;
    close(got, naiveAttention(q, k, v, opts), 1e-5, JSON.stringify(opts));
  }
  assert.throws(() => ops.causalAttention(q, k, v, { softcap: -1 }), {
    message: 'causalAttention: softcap must be a positive number, got -1',
  });
});

test('geluExact: closed forms (0, Phi(1), large |x|) and erf against tabulated values', () => {
  assert.equal(ops.geluExact(Tensor.fromArray([0])).data[0], 0);
  // erf(1) = 0.8427007929497149, erf(0.5) = 0.5204998778130465, erf(2.5) = 0.9995930479825550
  close(
    [erf(1), erf(0.5), erf(2.5), erf(-2.5), erf(5)],
    [0.8427007929497149, 0.5204998778130465, 0.999593047982555, -0.999593047982555, 1],
    1e-14,
    'erf',
  );
  const y = ops.geluExact(Tensor.fromArray([1, -1, 8, -8])).data;
  close(y, [0.8413447460685429, -0.15865525393145707, 8, 0], 1e-7, 'gelu');
});

test('causalAttention with T = 1 returns v (each query head its kv head)', () => {
  const q = randn([2, 1, 4, 3], 4);
  const v = randn([2, 1, 2, 3], 5);
  const out = ops.causalAttention(q, randn([2, 1, 2, 3], 6), v);
  const expected: number[] = [];
  for (let b = 0; b < 2; b++)
    for (let h = 0; h < 4; h++)
      expected.push(...v.data.subarray((b * 2 + Math.floor(h / 2)) * 3, (b * 2 + Math.floor(h / 2)) * 3 + 3));
  close(out.data, expected, 1e-6, 'T=1');
});

test('grouped-query attention equals multi-head attention with repeated kv heads, values and gradients', () => {
  const [B, T, H, Hkv, hd] = [2, 4, 6, 2, 3];
  const rep = H / Hkv;
  const q = randn([B, T, H, hd], 7, true);
  const k = randn([B, T, Hkv, hd], 8, true);
  const v = randn([B, T, Hkv, hd], 9, true);
  // repeat_kv: kv head g serves query heads g*rep .. g*rep+rep-1
  const repeatIdx = Int32Array.from(
    { length: B * T * H },
    (_, i) => Math.floor(i / H) * Hkv + Math.floor((i % H) / rep),
  );
  const repeated = (x: Tensor) =>
    ops.reshape(ops.gatherRows(ops.reshape(x, [B * T * Hkv, hd]), repeatIdx), [B, T, H, hd]);
  const w = randn([B, T, H, hd], 10);
  resetTape();
  backward(ops.sum(ops.mul(ops.causalAttention(q, k, v), w)));
  const gqa = [q.grad!.slice(), k.grad!.slice(), v.grad!.slice()];
  const gqaOut = ops.causalAttention(q, k, v).data;
  for (const t of [q, k, v]) t.grad = null;
  const mhaOut = ops.causalAttention(q, repeated(k), repeated(v));
  backward(ops.sum(ops.mul(mhaOut, w)));
  close(gqaOut, mhaOut.data, 1e-6, 'output');
  close(gqa[0]!, q.grad!, 1e-5, 'dq');
  close(gqa[1]!, k.grad!, 1e-5, 'dk');
  close(gqa[2]!, v.grad!, 1e-5, 'dv');
});

test('packedCausalAttention equals causalAttention of the q, k, v slices, values and gradients', () => {
  const [B, T, H, Hkv, hd] = [2, 5, 4, 2, 3];
  const width = (H + 2 * Hkv) * hd;
  const qkv = randn([B, T, width], 11, true);
  const w = randn([B, T, H, hd], 12);
  resetTape();
  const packed = ops.packedCausalAttention(qkv, H, Hkv);
  backward(ops.sum(ops.mul(packed, w)));
  const packedGrad = qkv.grad!.slice();
  qkv.grad = null;
  const part = (start: number, heads: number) =>
    ops.reshape(ops.narrow(qkv, 2, start * hd, heads * hd), [B, T, heads, hd]);
  const sliced = ops.causalAttention(part(0, H), part(H, Hkv), part(H + Hkv, Hkv));
  backward(ops.sum(ops.mul(sliced, w)));
  assert.deepEqual(packed.shape, [B, T, H, hd]);
  close(packed.data, sliced.data, 1e-6, 'output');
  close(packedGrad, qkv.grad!, 1e-5, 'dqkv');
  assert.throws(() => ops.packedCausalAttention(randn([2, 5, 10], 13), 4), {
    message:
      'packedCausalAttention: tensor [2, 5, 10] must be [B, T, (heads + 2*kv_heads) * head_dim] with 4 heads and 4 kv heads',
  });
});

test('rope: identity at position 0, rotation by t * theta^(-2i/hd), norms of pairs preserved', () => {
  const [T, hd, theta] = [3, 4, 100];
  const x = randn([1, T, 2, hd], 11);
  const y = ops.rope(x, ops.inverseFrequencies(theta, hd));
  close(y.data.subarray(0, 2 * hd), x.data.subarray(0, 2 * hd), 0, 'position 0');
  for (let t = 0; t < T; t++)
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < hd / 2; i++) {
        const o = (t * 2 + h) * hd;
        const [u, w] = [x.data[o + i]!, x.data[o + i + hd / 2]!];
        const angle = t * Math.pow(theta, -(2 * i) / hd);
        close(
          [y.data[o + i]!, y.data[o + i + hd / 2]!],
          [u * Math.cos(angle) - w * Math.sin(angle), w * Math.cos(angle) + u * Math.sin(angle)],
          1e-5,
          `t=${t} h=${h} i=${i}`,
        );
        assert.ok(Math.abs(Math.hypot(u, w) - Math.hypot(y.data[o + i]!, y.data[o + i + hd / 2]!)) < 1e-5);
      }
  assert.throws(() => ops.rope(randn([1, 2, 1, 3], 1), ops.inverseFrequencies(10000, 2)), {
    message: 'rope: head_dim 3 of tensor [1, 2, 1, 3] must be even',
  });
  assert.throws(() => ops.rope(randn([1, 2, 1, 4], 1), ops.inverseFrequencies(10000, 2)), {
    message: 'rope: 1 inverse frequencies for head_dim 4 (need 2)',
  });
});

test('logSigmoid, softplus, sigmoid: closed forms and stability at large |x|', () => {
  const x = Tensor.fromArray([0, -100, 100, 2]);
  close(ops.logSigmoid(x).data, [-Math.LN2, -100, 0, -Math.log1p(Math.exp(-2))], 1e-7, 'logSigmoid');
  close(ops.softplus(x).data, [Math.LN2, 0, 100, Math.log1p(Math.exp(2))], 1e-7, 'softplus');
  close(ops.sigmoid(x).data, [0.5, 0, 1, 1 / (1 + Math.exp(-2))], 1e-7, 'sigmoid');
});

test('softmax rows sum to 1; logSoftmax and gatherLogProbs agree; masked targets give 0', () => {
  const x = Tensor.fromArray([1, 2, 3, 1000, 1000, 0], [2, 3]);
  const p = ops.softmax(x);
  close([p.data[0]! + p.data[1]! + p.data[2]!, p.data[3]! + p.data[4]! + p.data[5]!], [1, 1], 1e-6, 'row sums');
  close(p.data.subarray(3), [0.5, 0.5, 0], 1e-6, 'large logits');
  const ls = ops.logSoftmax(x);
  const g = ops.gatherLogProbs(x, Int32Array.from([2, -1]));
  close(g.data, [ls.data[2]!, 0], 1e-6, 'gather');
  assert.throws(() => ops.gatherLogProbs(x, Int32Array.from([3, 0])), {
    message: 'gatherLogProbs: targets[0] = 3 is outside [0, 3) and not -1 (masked)',
  });
});

test('embedding: rows looked up; only the rows used receive gradient', () => {
  const w = Tensor.fromArray([0, 1, 10, 11, 20, 21, 30, 31], [4, 2], { requiresGrad: true });
  const ids = Int32Array.from([2, 0, 2]);
  resetTape();
  const e = ops.embedding(w, ids, [1, 3]);
  assert.deepEqual(e.shape, [1, 3, 2]);
  assert.deepEqual([...e.data], [20, 21, 0, 1, 20, 21]);
  backward(ops.sum(e));
  assert.deepEqual([...w.grad!], [1, 1, 0, 0, 2, 2, 0, 0]);
  assert.throws(() => ops.embedding(w, Int32Array.from([4]), [1]), {
    message: 'embedding: ids[0] = 4 is outside [0, 4)',
  });
});

test('broadcasting: trailing and size-1 axes; a clear error otherwise', () => {
  const a = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual([...ops.add(a, Tensor.fromArray([10, 20, 30])).data], [11, 22, 33, 14, 25, 36]);
  assert.deepEqual([...ops.mul(Tensor.fromArray([2, 3], [2, 1]), a).data], [2, 4, 6, 12, 15, 18]);
  assert.deepEqual([...ops.sub(a, Tensor.scalar(1)).data], [0, 1, 2, 3, 4, 5]);
  assert.throws(() => ops.add(a, Tensor.fromArray([1, 2])), {
    message:
      'add: cannot broadcast tensor [2, 3] with tensor [2] (axis 1 from the right-aligned start: 3 vs 2; sizes must match or be 1)',
  });
});

test('reductions and shape ops move the right values', () => {
  const x = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.equal(ops.sum(x).item(), 21);
  assert.equal(ops.mean(x).item(), 3.5);
  assert.deepEqual([...ops.sumAxis(x, 0).data], [5, 7, 9]);
  assert.deepEqual([...ops.sumLastAxis(x).data], [6, 15]);
  assert.deepEqual([...ops.maskedSum(x, Float32Array.from([0, 1, 1, 1, 0, 0])).data], [5, 4]);
  const r = ops.reshape(x, [3, -1]);
  assert.deepEqual(r.shape, [3, 2]);
  assert.equal(r.data, x.data); // a view: no copy
  assert.deepEqual([...ops.transpose(x, [1, 0]).data], [1, 4, 2, 5, 3, 6]);
  const t4 = Tensor.fromArray(
    Array.from({ length: 24 }, (_, i) => i),
    [1, 2, 3, 4],
  ); // [B,T,H,hd]
  const bhtd = ops.transpose(t4, [0, 2, 1, 3]);
  assert.deepEqual(bhtd.shape, [1, 3, 2, 4]);
  assert.deepEqual([...bhtd.data.subarray(0, 8)], [0, 1, 2, 3, 12, 13, 14, 15]); // head 0 at t = 0, 1
  assert.deepEqual([...ops.narrow(x, 1, 1, 2).data], [2, 3, 5, 6]);
  assert.deepEqual([...ops.slice(x, 0, 1, 2).data], [4, 5, 6]);
  assert.deepEqual([...ops.concat([x, Tensor.fromArray([7, 8], [2, 1])], 1).data], [1, 2, 3, 7, 4, 5, 6, 8]);
  assert.deepEqual([...ops.clamp(x, 2, 4).data], [2, 2, 3, 4, 4, 4]);
  assert.throws(() => ops.reshape(x, [4, 2]), { message: 'reshape: tensor [2, 3] has 6 elements, [4, 2] needs 8' });
  assert.throws(() => ops.transpose(x, [0, 0]), {
    message: 'transpose: [0, 0] is not a permutation of the 2 axes of tensor [2, 3]',
  });
});

test('dropout: seeded, inverted scaling, identity when p = 0 or not training', () => {
  const x = Tensor.full([10000], 1);
  assert.equal(ops.dropout(x, 0.3, new Rng(1), false), x);
  assert.equal(ops.dropout(x, 0, new Rng(1), true), x);
  const a = ops.dropout(x, 0.3, new Rng(1), true);
  const b = ops.dropout(x, 0.3, new Rng(1), true);
  assert.deepEqual(a.data, b.data);
  const kept = a.data.filter((v) => v !== 0);
  assert.ok(
    kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6),
    'kept values are scaled by 1/(1-p)',
  );
  assert.ok(Math.abs(kept.length / 10000 - 0.7) < 0.02, `kept fraction ${kept.length / 10000}`);
  assert.throws(() => ops.dropout(x, 1, new Rng(1), true), { message: 'dropout: p must be in [0, 1), got 1' });
});

test('dropout: element i dropped exactly when the i-th rng.uniform() < p, and the rng left where those draws leave it', () => {
  const x = Tensor.randn([3, 1001], new Rng(5), 1);
  for (const p of [0.05, 0.5, 2 ** -32, 0.3]) {
    const rng = new Rng(9);
    const reference = new Rng(9);
    const y = ops.dropout(x, p, rng, true);
    for (let i = 0; i < x.size; i++) {
      const mask = reference.uniform() < p ? 0 : Math.fround(1 / (1 - p)); // stored as a float32
      assert.equal(y.data[i], Math.fround(x.data[i]! * mask), `p ${p}, element ${i}`);
    }
    assert.deepEqual(rng.getState(), reference.getState());
  }
});

test('Rng.fillUint32: the same words as successive nextUint32() calls, and the same state after', () => {
  // words 0, 1, 2 and 999 of each seed's stream, as the generator has always drawn them (seeded runs and the
  // reproductions depend on it)
  const pinned = new Map([
    [0, [3809008728, 1133695204, 53579671, 3855962975]],
    [1, [2442144158, 3238099751, 3819917871, 4020342576]],
    [123456789, [4284103975, 1001954530, 2701803082, 483943055]],
    [-7, [4105674630, 1549025917, 1462909597, 248745997]],
  ]);
  for (const [seed, words] of pinned) {
    const bulk = new Rng(seed);
    const single = new Rng(seed);
    const first = bulk.nextUint32(); // from a state that is not the seed's
    single.nextUint32();
    const out = new Uint32Array(1000);
    bulk.fillUint32(out);
    assert.deepEqual([first, out[0], out[1], out[998]], words, `seed ${seed}: the pinned words`);
    for (let i = 0; i < out.length; i++) assert.equal(out[i], single.nextUint32(), `seed ${seed}, word ${i}`);
    assert.deepEqual(bulk.getState(), single.getState());
    assert.equal(bulk.nextUint32(), single.nextUint32());
  }
});
