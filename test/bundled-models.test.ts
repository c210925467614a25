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

// name, layers, hidden size, [heads, key/value heads], MLP width, parameters, stored dtype, at most MB
const BUNDLED = [
  ['prefdyn-tiny', 4, 128, [4, 2], 352, 1_787_008, 'F32', 10],
  ['prefdyn-small', 6, 256, [8, 4], 704, 6_524_160, 'BF16', 15],
] as const;

for (const [name, layers, d, heads, mlp, parameters, dtype, maxMb] of BUNDLED) {
  const dir = path.join(repoRoot, 'models', name);
  test(`${name}: a tied Llama with GQA, ${layers} layers of ${d}, ${dtype}, vocabulary 8192, " Yes" and " No" single tokens`, async () => {
    const model = await loadModel(dir);
    const c = model.config;
    assert.equal(c.arch, 'llama');
    assert.equal(c.vocabSize, 8192);
    assert.ok(c.arch === 'llama' && c.tieWordEmbeddings && c.numKeyValueHeads < c.numAttentionHeads);
    assert.deepEqual([c.numHiddenLayers, c.hiddenSize], [layers, d]);
    assert.deepEqual([c.numAttentionHeads, c.numKeyValueHeads, c.intermediateSize], [...heads, mlp]);
    assert.deepEqual([c.maxPositionEmbeddings, c.rope.theta], [256, 10_000]);
    const summary = summarizeModel(dir);
    assert.equal(summary.parameters, parameters);
    assert.deepEqual(Object.keys(summary.dtypes), [dtype]);
    const tok = loadTokenizer(dir, { vocabSize: c.vocabSize });
    assert.equal(tok.vocabSize, 8192);
    assert.deepEqual(tok.encode(' Yes', false), [3363]);
    assert.deepEqual(tok.encode(' No', false), [1400]);
    assert.equal(tok.eos?.id, 8191);
    const bytes = fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
    assert.ok(bytes < maxMb * 1024 * 1024, `${bytes} bytes`);
  });
  test(`${name} is pretrained: a sentence costs far less than its words in reverse order, and far less than ln(V)`, async () => {
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
