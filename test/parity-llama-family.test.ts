// The Llama family's options against PyTorch (scripts/parity/make_fixtures.py, test/fixtures/parity/arch/):
// rope_scaling llama3 / linear / dynamic (T = 12 past max_position_embeddings 8), the transformers-5
// spelling (rope_parameters, no rope_theta), head_dim != hidden/heads, attention and MLP biases,
// Mistral's sliding window (4, shorter than T = 12), Qwen2 (q/k/v biases) and Qwen3 (q_norm/k_norm).
// Logits, final hidden states, the loss and every parameter's gradient, each within 1e-4 relative
// (max|a-b| / max|b|), the tolerance of the original Llama and GPT-2 fixtures (test/parity.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { backward } from '../src/tensor/autograd.js';
import { loadModel } from '../src/model/load.js';
import { assertClose, forwardBackwardNll, parityDir, readReference } from './helpers/parity.js';

const TOL = 1e-4;
const archDir = path.join(parityDir, 'arch');

const FIXTURES: [string, string][] = [
  ['llama3-scaling', 'llama'],
  ['llama-linear', 'llama'],
  ['llama-dynamic', 'llama'],
  ['llama-v5', 'llama'],
  ['mistral-window', 'mistral'],
  ['qwen2', 'qwen2'],
  ['qwen3', 'qwen3'],
];

for (const [name, modelType] of FIXTURES) {
  test(`parity: ${name} logits, hidden states, loss and every gradient match PyTorch`, async () => {
    const dir = path.join(archDir, name);
    const model = await loadModel(dir);
    assert.ok(model.config.arch === 'llama' && model.config.modelType === modelType);
    const ref = readReference(dir);
    for (const p of model.params().values()) p.requiresGrad = true;
    const { logits, hidden, loss } = forwardBackwardNll(model, backward, archDir);
    assertClose('logits', logits.data, ref.get('logits'), TOL);
    assertClose('hidden', hidden.data, ref.get('hidden'), TOL);
    assertClose('loss', loss.data, ref.get('loss'), TOL);
    const refGrads = new Map([...ref].filter(([k]) => k.startsWith('grad.')).map(([k, v]) => [k.slice(5), v]));
    assert.deepEqual([...model.params().keys()].sort(), [...refGrads.keys()].sort());
    for (const [pname, p] of model.params()) {
      assert.ok(p.grad, `${pname}: no gradient`);
      assertClose(`grad ${pname}`, p.grad, refGrads.get(pname), TOL);
    }
  });
}
