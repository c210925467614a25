// Every architecture against PyTorch (scripts/parity/make_fixtures.py): logits, final hidden states,
// the loss, and the gradient of every parameter, each within 1e-4 relative (max|a-b| / max|b|).
// GPT-NeoX parallel and sequential residual (partial rotary, both config spellings), Gemma, and Gemma-2
// with T = 10 > its sliding window 3 and both soft-caps binding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { backward } from '../src/tensor/autograd.js';
import { loadModel } from '../src/model/load.js';
import { assertClose, forwardBackwardNll, parityDir, readReference } from './helpers/parity.js';

const TOL = 1e-4;

for (const name of [
  'llama-gqa-tied',
  'llama-untied',
  'gpt2',
  'gpt-neox-parallel',
  'gpt-neox-sequential',
  'gemma',
  'gemma2',
]) {
  test(`parity: ${name} logits, hidden states, loss and every gradient match PyTorch`, async () => {
    const dir = path.join(parityDir, name);
    const model = await loadModel(dir);
    const ref = readReference(dir);
    for (const p of model.params().values()) p.requiresGrad = true;
    const { logits, hidden, loss } = forwardBackwardNll(model, backward);
    assertClose('logits', logits.data, ref.get('logits'), TOL);
    assertClose('hidden', hidden.data, ref.get('hidden'), TOL);
    assertClose('loss', loss.data, ref.get('loss'), TOL);
    // GPT2LMHeadModel's names carry "transformer."; prefdyn's are GPT2Model's.
    const refGrads = new Map(
      [...ref].filter(([k]) => k.startsWith('grad.')).map(([k, v]) => [k.slice(5).replace(/^transformer\./, ''), v]),
    );
    assert.deepEqual([...model.params().keys()].sort(), [...refGrads.keys()].sort());
    for (const [pname, p] of model.params()) {
      assert.ok(p.grad, `${pname}: no gradient`);
      assertClose(`grad ${pname}`, p.grad, refGrads.get(pname), TOL);
    }
  });
}

test('parity: logits at selected positions equal the rows of the full logits (within float32 rounding)', async () => {
  const model = await loadModel(path.join(parityDir, 'llama-gqa-tied'));
  const B = 3;
  const T = 10;
  const V = 1025;
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 37) % V);
  const { logits: all, hidden } = model.forward(ids, B, T);
  const positions = Int32Array.of(9, 16, 23);
  const { logits: some } = model.forward(ids, B, T, { logits: positions });
  assert.deepEqual(some!.shape, [3, V]);
  // The two are GEMMs of different shapes, so BLAS may sum the d products in another order: each logit may
  // differ by at most d u sum_k |h_k w_vk| from the exact dot product (u = 2^-24), hence twice that between them.
  const W = model.params().get(model.unembeddingName)!.data;
  const d = hidden.shape.at(-1)!;
  positions.forEach((pos, i) => {
    for (let v = 0; v < V; v++) {
      let absDot = 0;
      for (let k = 0; k < d; k++) absDot += Math.abs(hidden.data[pos * d + k]! * W[v * d + k]!);
      const diff = Math.abs(some!.data[i * V + v]! - all!.data[pos * V + v]!);
      assert.ok(diff <= 2 * d * 2 ** -24 * absDot, `position ${pos}, logit ${v}: |diff| ${diff} > bound`);
    }
  });
  const { logits: none } = model.forward(ids, B, T, { logits: 'none' });
  assert.equal(none, undefined);
});
