// The bundled models, models/prefdyn-tiny and models/prefdyn-small: what their model cards promise,
// checked on the files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers/cli.js';
import { loadModel } from '../src/model/load.js';
import { summarizeModel } from '../src/model/summary.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { causalLmLoss } from '../src/pretrain/lm-loss.js';
import { noGrad } from '../src/tensor/autograd.js';

const BUNDLED = [
  {
    name: 'prefdyn-tiny',
    layers: 4,
    d: 128,
    heads: [4, 2],
    mlp: 352,
    parameters: 1_787_008,
    dtype: 'F32',
    maxBytes: 10 * 1024 * 1024,
  },
  {
    name: 'prefdyn-small',
    layers: 6,
    d: 256,
    heads: [8, 4],
    mlp: 704,
    parameters: 6_524_160,
    dtype: 'BF16',
    maxBytes: 15 * 1024 * 1024,
  },
];

for (const m of BUNDLED) {
  const dir = path.join(repoRoot, 'models', m.name);
  test(`${m.name}: a tied Llama with GQA, ${m.layers} layers of ${m.d}, ${m.dtype}, vocabulary 8192, " Yes" and " No" single tokens`, async () => {
    const model = await loadModel(dir);
    const c = model.config;
    assert.equal(c.arch, 'llama');
    assert.equal(c.vocabSize, 8192);
    assert.ok(c.arch === 'llama' && c.tieWordEmbeddings && c.numKeyValueHeads < c.numAttentionHeads);
    assert.deepEqual([c.numHiddenLayers, c.hiddenSize], [m.layers, m.d]);
    assert.deepEqual([c.numAttentionHeads, c.numKeyValueHeads, c.intermediateSize], [...m.heads, m.mlp]);
    assert.deepEqual([c.maxPositionEmbeddings, c.rope.theta], [256, 10_000]);
    const summary = summarizeModel(dir);
    assert.equal(summary.parameters, m.parameters);
    assert.deepEqual(Object.keys(summary.dtypes), [m.dtype]);
    const tok = loadTokenizer(dir, { vocabSize: c.vocabSize });
    assert.equal(tok.vocabSize, 8192);
    assert.deepEqual(tok.encode(' Yes', false), [3363]);
    assert.deepEqual(tok.encode(' No', false), [1400]);
    assert.equal(tok.eos?.id, 8191);
    const bytes = fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
    assert.ok(bytes < m.maxBytes, `${bytes} bytes`);
  });
  test(`${m.name} is pretrained: a sentence costs far less than its words in reverse order, and far less than ln(V)`, async () => {
    const model = await loadModel(dir);
    const tok = loadTokenizer(dir);
    const text = 'I believe it is important to be honest with the people around me.';
    const words = text.slice(0, -1).split(' ');
    const nll = (s: string) => {
      const ids = [...tok.encode(s, false), tok.eos!.id];
      const T = ids.length - 1;
      return noGrad(() =>
        causalLmLoss(model, Int32Array.from(ids.slice(0, T)), Int32Array.from(ids.slice(1)), 1, T).loss.item(),
      );
    };
    const forward = nll(text);
    const reversed = nll(`${words.reverse().join(' ')}.`);
    assert.ok(forward < Math.log(8192) / 2, `NLL ${forward}`);
    assert.ok(forward < reversed - 1, `NLL ${forward} (sentence) vs ${reversed} (reversed)`);
  });
}
