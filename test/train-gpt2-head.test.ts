// GPT-2 with an untied lm_head (HF tie_word_embeddings: false, lm_head.weight stored): it loads (also
// in GPT2LMHeadModel's layout, "transformer."-prefixed body and a top-level lm_head.weight), scores
// with that head, and saves; so a last-layer run on GPT-2 saves a complete model folder whose
// `prefdyn logprobs` equal the numbers the run logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadWeights, saveCheckpoint } from '../src/model/checkpoint.js';
import { parseModelConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/init.js';
import { modelFromWeights } from '../src/model/load.js';
import { writeSafetensors } from '../src/model/safetensors.js';
import { loadSource } from '../src/data/source.js';
import { splitPairs } from '../src/data/split.js';
import { runCli, fixturesDir } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-gpt2-head-');
const GPT2 = { model_type: 'gpt2', n_embd: 16, n_layer: 1, n_head: 2, n_positions: 32, vocab_size: 1025 };

test('an untied GPT-2 in GPT2LMHeadModel layout loads, scores with lm_head.weight, and round-trips', async () => {
  const cfg = parseModelConfig({ ...GPT2, tie_word_embeddings: false }, 'config.json');
  const weights = initWeights(cfg, 5);
  assert.deepEqual(weights.get('lm_head.weight')!.shape, [1025, 16]);
  const dir = path.join(tmp, 'hf');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...GPT2, tie_word_embeddings: false }));
  writeSafetensors(
    path.join(dir, 'model.safetensors'),
    [...weights].map(([name, w]) => ({
      name: name === 'lm_head.weight' ? name : `transformer.${name}`,
      shape: w.shape,
      data: w.data,
    })),
  );
  const loaded = await loadWeights(dir);
  assert.equal(loaded.config.tieWordEmbeddings, false);
  assert.deepEqual(loaded.weights, weights);
  // logits = hidden @ lm_head^T, not hidden @ wte^T
  const model = modelFromWeights(loaded.config, loaded.weights);
  assert.equal(model.unembeddingName, 'lm_head.weight');
  const { hidden, logits } = model.forward(Int32Array.of(3, 9, 27), 1, 3);
  const head = weights.get('lm_head.weight')!.data;
  for (const v of [0, 500, 1024]) {
    let want = 0;
    for (let k = 0; k < 16; k++) want += hidden.data[2 * 16 + k]! * head[v * 16 + k]!;
    assert.ok(Math.abs(logits!.data[2 * 1025 + v]! - want) < 1e-5, `logit ${v}`);
  }
  const saved = path.join(tmp, 'saved');
  saveCheckpoint(saved, loaded.config, loaded.weights);
  assert.equal(JSON.parse(fs.readFileSync(path.join(saved, 'config.json'), 'utf8')).tie_word_embeddings, false);
  assert.deepEqual((await loadWeights(saved)).weights, weights);
  // An untied GPT-2 without its lm_head.weight is an error naming the tensor.
  writeSafetensors(
    path.join(dir, 'model.safetensors'),
    [...weights].filter(([n]) => n !== 'lm_head.weight').map(([name, w]) => ({ name, ...w })),
  );
  await assert.rejects(loadWeights(dir), {
    message: `${path.join(dir, 'model.safetensors')}: missing tensor "lm_head.weight" (expected shape [1025, 16] for this gpt2 config.json)`,
  });
});

test('a last-layer run on GPT-2 saves a model folder whose `prefdyn logprobs` equal the logged numbers', async () => {
  const model = path.join(tmp, 'tiny-gpt2');
  const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
  assert.equal(
    runCli([
      'model',
      'init',
      '--arch',
      'gpt2',
      '--size',
      'd=32,layers=2,heads=4',
      '--tokenizer',
      path.join(fixturesDir, 'tokenizers', 'gpt2-small'),
      '--out',
      model,
      '--seed',
      '4',
    ]).code,
    0,
  );
  const run = path.join(tmp, 'run');
  const r = runCli(
    [
      'train',
      '--model',
      model,
      '--data',
      data,
      '--mode',
      'last-layer',
      '--test-fraction',
      '0.25',
      '--batch-size',
      '12',
      '--steps',
      '5',
      '--lr',
      '20',
      '--beta',
      '0.5',
      '--out',
      run,
    ],
    { env: { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') } },
  );
  assert.equal(r.code, 0, r.stderr);
  const ckpt = path.join(run, 'checkpoints', 'step-5');
  const cfg = JSON.parse(fs.readFileSync(path.join(ckpt, 'config.json'), 'utf8'));
  assert.equal(cfg.model_type, 'gpt2');
  assert.equal(cfg.tie_word_embeddings, false);
  const out = path.join(tmp, 'lp.jsonl');
  const lp = runCli(['logprobs', '--model', ckpt, '--data', data, '--out', out]);
  assert.equal(lp.code, 0, lp.stderr);
  const byId = new Map(
    fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((x) => [x.id, x]),
  );
  const lines = fs
    .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const { test: testPairs } = splitPairs((await loadSource(data)).pairs, { testFraction: 0.25, seed: 1234 });
  for (const g of ['alpha', 'beta']) {
    const logged = lines.find((l) => l.step === 5 && l.split === 'test' && l.group === g);
    const start = lines.find((l) => l.step === 0 && l.split === 'test' && l.group === g);
    const mine = testPairs.filter((p) => p.group === g).map((p) => byId.get(p.id));
    for (const [key, field] of [
      ['logps/chosen', 'logp_chosen'],
      ['logps/rejected', 'logp_rejected'],
    ] as const) {
      const mean = mine.reduce((s, x) => s + x[field], 0) / mine.length;
      assert.ok(
        Math.abs(logged[key] - start[key]) > 1e-3,
        `${g} ${key}: training moved it (${start[key]} -> ${logged[key]})`,
      );
      assert.ok(
        Math.abs(mean - logged[key]) < 1e-5 * Math.abs(logged[key]),
        `${g} ${key}: logprobs ${mean} vs logged ${logged[key]}`,
      );
    }
  }
});
