// Finite-difference checks of every op's backward rule, on small well-scaled inputs.
import { test } from 'node:test';
import { Tensor } from '../src/tensor/tensor.js';
import * as ops from '../src/tensor/ops/index.js';
import { Rng } from '../src/util/rng.js';
import { gradcheck } from './helpers/gradcheck.js';

function param(name: string, shape: number[], seed: number, std = 1): Tensor {
  return Tensor.randn(shape, new Rng(seed), std, { requiresGrad: true, name });
}

/** Values uniform in [lo, hi): for ops defined on part of the line (sqrt, log, div). */
function uniformParam(name: string, shape: number[], seed: number, lo: number, hi: number): Tensor {
  const t = Tensor.zeros(shape, { requiresGrad: true, name });
  const rng = new Rng(seed);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * rng.uniform();
  return t;
}

test('linear: x, weight and bias', () => {
  const x = param('x', [2, 3, 5], 1);
  const w = param('w', [4, 5], 2);
  const b = param('b', [4], 3);
  gradcheck(() => ops.linear(x, w, b), [x, w, b]);
  gradcheck(() => ops.linear(x, w), [x, w]);
});

test('matmul: a and b', () => {
  const a = param('a', [2, 3, 4], 4);
  const b = param('b', [4, 6], 5);
  gradcheck(() => ops.matmul(a, b), [a, b]);
});

test('embedding and gatherRows: sparse row gradients', () => {
  const w = param('weight', [6, 3], 6);
  const ids = Int32Array.from([1, 4, 1, 0]);
  gradcheck(() => ops.embedding(w, ids, [2, 2]), [w]);
  const x = param('x', [5, 2, 2], 7);
  gradcheck(() => ops.gatherRows(x, Int32Array.from([4, 0, 4])), [x]);
});

test('rmsnorm and layernorm: input, weight and bias', () => {
  const x = param('x', [3, 6], 8, 3); // rms far from 1, so every power of rstd matters
  const w = param('w', [6], 9);
  const b = param('b', [6], 10);
  gradcheck(() => ops.rmsnorm(x, w, 1e-5), [x, w]);
  gradcheck(() => ops.layernorm(x, w, b, 1e-5), [x, w, b]);
});

test('rope: gradient is the inverse rotation', () => {
  const x = param('x', [2, 3, 2, 4], 11);
  gradcheck(() => ops.rope(x, ops.inverseFrequencies(10, 4)), [x]);
});

test('causalAttention: q, k, v with grouped-query heads', () => {
  const q = param('q', [2, 3, 4, 4], 12);
  const k = param('k', [2, 3, 2, 4], 13);
  const v = param('v', [2, 3, 2, 4], 14);
  gradcheck(() => ops.causalAttention(q, k, v), [q, k, v]);
  // k as both keys and values: the two gradient paths must add up, not overwrite each other
  gradcheck(() => ops.causalAttention(q, k, k), [q, k]);
});

test('causalAttention with a scale, soft-capping and a sliding window shorter than the sequence: q, k, v', () => {
  const q = param('q', [2, 5, 4, 4], 31);
  const k = param('k', [2, 5, 2, 4], 32);
  const v = param('v', [2, 5, 2, 4], 33);
  gradcheck(() => ops.causalAttention(q, k, v, { scale: 0.8, softcap: 0.7, window: 2 }), [q, k, v]);
  gradcheck(() => ops.causalAttention(q, k, v, { softcap: 1.5 }), [q, k, v]);
  gradcheck(() => ops.causalAttention(q, k, v, { window: 3 }), [q, k, v]);
});

test('packedCausalAttention: one q|k|v tensor, grouped-query heads, gradients into all three parts', () => {
  const qkv = param('qkv', [2, 3, (4 + 2 * 2) * 3], 15); // H = 4, Hkv = 2, hd = 3
  gradcheck(() => ops.packedCausalAttention(qkv, 4, 2), [qkv]);
});

test('activations: swiglu, gelu, geluExact, silu, sigmoid, logSigmoid, softplus, tanh, exp', () => {
  const x = param('x', [3, 5], 15, 2);
  const up = param('up', [3, 5], 16);
  gradcheck(() => ops.swiglu(x, up), [x, up]);
  for (const f of [ops.gelu, ops.geluExact, ops.silu, ops.sigmoid, ops.logSigmoid, ops.softplus, ops.tanh, ops.exp]) {
    gradcheck(() => f(x), [x]);
  }
});

test('log and sqrt on positive inputs', () => {
  const x = uniformParam('x', [7], 17, 0.5, 3);
  gradcheck(() => ops.log(x), [x]);
  gradcheck(() => ops.sqrt(x), [x]);
});

test('softmax, logSoftmax and gatherLogProbs (masked targets get no gradient)', () => {
  const x = param('logits', [4, 6], 18);
  gradcheck(() => ops.softmax(x), [x]);
  gradcheck(() => ops.logSoftmax(x), [x]);
  gradcheck(() => ops.gatherLogProbs(x, Int32Array.from([2, -1, 5, 0])), [x]);
});

test('binary arithmetic with same shapes and with broadcasting', () => {
  const a = param('a', [2, 3, 4], 19);
  const b = param('b', [2, 3, 4], 20);
  const row = param('row', [4], 21);
  const col = param('col', [2, 1, 4], 22);
  const s = param('s', [1], 23);
  const den = uniformParam('den', [4], 24, 0.5, 2);
  for (const f of [ops.add, ops.sub, ops.mul]) {
    gradcheck(() => f(a, b), [a, b]);
    gradcheck(() => f(a, row), [a, row]);
    gradcheck(() => f(row, a), [row, a]);
    gradcheck(() => f(col, a), [col, a]);
    gradcheck(() => f(a, s), [a, s]);
  }
  gradcheck(() => ops.div(a, den), [a, den]);
});

test('scalar ops: scale, addScalar, neg, square, clamp', () => {
  const x = Tensor.fromArray([-1.5, -0.6, 0.3, 0.7, 1.2, 2.4], [2, 3], { requiresGrad: true, name: 'x' });
  gradcheck(() => ops.scale(x, -2.5), [x]);
  gradcheck(() => ops.addScalar(x, 3), [x]);
  gradcheck(() => ops.neg(x), [x]);
  gradcheck(() => ops.square(x), [x]);
  gradcheck(() => ops.clamp(x, -1, 1), [x]); // no element within eps of a bound
});

test('reductions: sum, mean, sumAxis, sumLastAxis, maskedSum', () => {
  const x = param('x', [2, 3, 4], 25);
  gradcheck(() => ops.sum(x), [x]);
  gradcheck(() => ops.mean(x), [x]);
  gradcheck(() => ops.sumAxis(x, 1), [x]);
  gradcheck(() => ops.sumLastAxis(x), [x]);
  const y = param('y', [2, 3], 26);
  gradcheck(() => ops.maskedSum(y, Float32Array.from([0, 1, 1, 1, 1, 0])), [y]);
});

test('shape ops: reshape, transpose, narrow, slice, concat', () => {
  const x = param('x', [2, 3, 4], 27);
  const y = param('y', [2, 2, 4], 28);
  gradcheck(() => ops.reshape(x, [6, -1]), [x]);
  gradcheck(() => ops.transpose(x, [2, 0, 1]), [x]);
  gradcheck(() => ops.narrow(x, 1, 1, 2), [x]);
  gradcheck(() => ops.slice(x, -1, 1, 3), [x]);
  gradcheck(() => ops.concat([x, y, x], 1), [x, y]);
});

test('dropout: gradient follows the same seeded mask', () => {
  const x = param('x', [4, 5], 29);
  gradcheck(() => ops.dropout(x, 0.3, new Rng(5), true), [x]);
});

test('composition: a small MLP with a reused weight accumulates both uses', () => {
  const x = param('x', [3, 4], 30);
  const w = param('w', [4, 4], 31, 0.5);
  gradcheck(() => ops.mean(ops.square(ops.linear(ops.gelu(ops.linear(x, w)), w))), [x, w]);
});
