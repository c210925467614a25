// `prefdyn model init` and `model info` for the Llama family's model types (llama, mistral, qwen2, qwen3):
// each writes a config.json transformers reads as that family, loads, runs, and is described with its options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { loadModel } from '../src/model/load.js';
import { parityDir } from './helpers/parity.js';

const TOKENIZER = path.join(fixturesDir, 'tokenizers', 'gpt2-small');

const initArgs = (modelType: string, size: string, out: string): string[] => [
  'model',
  'init',
  '--arch',
  modelType,
  '--size',
  size,
  '--tokenizer',
  TOKENIZER,
  '--out',
  out,
];

function init(modelType: string, size: string, out: string): void {
  const r = runCli(initArgs(modelType, size, out));
  assert.equal(r.code, 0, r.stderr);
}

test('model init writes each Llama-family model_type; the models load and run', async () => {
  const root = tempDir('prefdyn-families-');
  const cases: [string, string, Record<string, unknown>, number][] = [
    // [model_type, --size, config.json fields, tensors per layer]
    ['mistral', 'd=16,layers=1,heads=2,window=3', { architectures: ['MistralForCausalLM'], sliding_window: 3 }, 9],
    ['qwen2', 'd=16,layers=1,heads=2', { architectures: ['Qwen2ForCausalLM'], use_sliding_window: false }, 12],
    ['qwen3', 'd=16,layers=1,heads=2', { architectures: ['Qwen3ForCausalLM'], head_dim: 8 }, 11],
  ];
  for (const [modelType, size, fields, perLayer] of cases) {
    const out = path.join(root, modelType);
    init(modelType, size, out);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.equal(config.model_type, modelType);
    for (const [k, v] of Object.entries(fields)) assert.deepEqual(config[k], v, `${modelType}: ${k}`);
    const model = await loadModel(out);
    assert.equal(model.params().size, 1 + perLayer + 1, modelType); // embedding (tied), one layer, final norm
    const { logits } = model.forward(
      Int32Array.from({ length: 10 }, (_, i) => i),
      2,
      5,
    );
    assert.ok(logits!.data.every(Number.isFinite));
  }
  const r = runCli(initArgs('llama', 'd=16,layers=1,heads=2,window=3', path.join(root, 'bad')));
  assert.deepEqual(
    [r.code, r.stderr],
    [1, 'prefdyn: --size: window (a sliding window) is a Mistral option, not one of llama\n'],
  );
  fs.rmSync(root, { recursive: true, force: true });
});

test('model info shows the family, the RoPE settings and the options read', () => {
  const info = (name: string): string => {
    const r = runCli(['model', 'info', path.join(parityDir, 'arch', name)]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const mistral = info('mistral-window');
  assert.match(mistral, /^arch +mistral$/m);
  assert.match(mistral, /^rope +theta 10000$/m);
  assert.match(mistral, /^options +sliding window 4$/m);
  assert.match(info('qwen2'), /^options +bias on q_proj, k_proj, v_proj$/m);
  assert.match(info('qwen3'), /^options +q_norm\/k_norm per head$/m);
  assert.match(info('qwen3'), /^heads +4 \(kv heads 2, head dim 8\)$/m);
  assert.match(
    info('llama-v5'),
    /^rope +theta 500000, llama3 factor 8 \(low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings 512\)$/m,
  );
  const dynamic = info('llama-dynamic');
  assert.match(dynamic, /^positions +8 \(dynamic RoPE runs to 16\)$/m);
  assert.match(dynamic, /^rope +theta 10000, dynamic factor 2$/m);
  const json = runCli(['model', 'info', path.join(parityDir, 'arch', 'llama3-scaling'), '--json']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.model_type, 'llama');
  assert.deepEqual(parsed.rope, {
    rope_theta: 10000,
    rope_type: 'llama3',
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 64,
  });
  assert.deepEqual(parsed.attention_biases, ['q_proj', 'k_proj', 'v_proj', 'o_proj']);
  assert.equal(parsed.mlp_bias, true);
  assert.equal(parsed.sliding_window, null);
});
