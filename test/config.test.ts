import { tempDir } from './helpers/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../src/util/errors.js';
import {
  expectedTensors,
  parameterCount,
  parseModelConfig,
  readModelConfig,
  writeModelConfig,
} from '../src/model/config.js';

const LLAMA = {
  model_type: 'llama',
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 100,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 64,
  architectures: ['LlamaForCausalLM'],
};
// GPT-2 small as published (config.json of the "gpt2" model).
const GPT2_SMALL = {
  model_type: 'gpt2',
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_positions: 1024,
  vocab_size: 50257,
  layer_norm_epsilon: 1e-5,
  activation_function: 'gelu_new',
  n_ctx: 1024,
};

function dirWith(config: unknown): string {
  const dir = tempDir('prefdyn-cfg-');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

test('llama config: fields, HF defaults and grouped-query heads', () => {
  const cfg = parseModelConfig(LLAMA, 'config.json');
  assert.equal(cfg.arch, 'llama');
  if (cfg.arch !== 'llama') return;
  assert.equal(cfg.headDim, 8);
  assert.equal(cfg.numKeyValueHeads, 2);
  assert.equal(cfg.ropeTheta, 10000);
  assert.equal(cfg.tieWordEmbeddings, false);
  const noKv = parseModelConfig({ ...LLAMA, num_key_value_heads: undefined, head_dim: 16, rope_theta: 5e5 }, 'c');
  assert.ok(noKv.arch === 'llama' && noKv.numKeyValueHeads === 4 && noKv.headDim === 16 && noKv.ropeTheta === 5e5);
});

test('gpt2 config: GPT-2 small has 124,439,808 parameters', () => {
  const cfg = parseModelConfig(GPT2_SMALL, 'config.json');
  assert.equal(cfg.arch, 'gpt2');
  assert.equal(cfg.intermediateSize, 3072);
  assert.equal(cfg.tieWordEmbeddings, true);
  assert.equal(parameterCount(cfg), 124_439_808);
});

test('expectedTensors gives HF names and shapes for both architectures', () => {
  const llama = expectedTensors(parseModelConfig(LLAMA, 'c'));
  assert.equal(llama.length, 1 + 2 * 9 + 1 + 1);
  const byName = new Map(llama.map((t) => [t.name, t.shape]));
  assert.deepEqual(byName.get('model.embed_tokens.weight'), [100, 32]);
  assert.deepEqual(byName.get('model.layers.1.self_attn.q_proj.weight'), [32, 32]);
  assert.deepEqual(byName.get('model.layers.1.self_attn.k_proj.weight'), [16, 32]);
  assert.deepEqual(byName.get('model.layers.0.mlp.down_proj.weight'), [32, 48]);
  assert.deepEqual(byName.get('lm_head.weight'), [100, 32]);
  const tied = expectedTensors(parseModelConfig({ ...LLAMA, tie_word_embeddings: true }, 'c'));
  assert.equal(
    tied.some((t) => t.name === 'lm_head.weight'),
    false,
  );
  const gpt2 = new Map(
    expectedTensors(parseModelConfig({ ...GPT2_SMALL, n_layer: 1 }, 'c')).map((t) => [t.name, t.shape]),
  );
  assert.deepEqual(
    [...gpt2.keys()],
    [
      'wte.weight',
      'wpe.weight',
      'h.0.ln_1.weight',
      'h.0.ln_1.bias',
      'h.0.attn.c_attn.weight',
      'h.0.attn.c_attn.bias',
      'h.0.attn.c_proj.weight',
      'h.0.attn.c_proj.bias',
      'h.0.ln_2.weight',
      'h.0.ln_2.bias',
      'h.0.mlp.c_fc.weight',
      'h.0.mlp.c_fc.bias',
      'h.0.mlp.c_proj.weight',
      'h.0.mlp.c_proj.bias',
      'ln_f.weight',
      'ln_f.bias',
    ],
  );
  assert.deepEqual(gpt2.get('h.0.attn.c_attn.weight'), [768, 2304]); // Conv1D: [in, out]
  assert.deepEqual(gpt2.get('h.0.mlp.c_proj.weight'), [3072, 768]);
  assert.deepEqual(gpt2.get('wpe.weight'), [1024, 768]);
});

test('readModelConfig / writeModelConfig round trip and keep unknown fields', () => {
  const dir = dirWith(LLAMA);
  const cfg = readModelConfig(dir);
  writeModelConfig(dir, { ...cfg, vocabSize: 128 });
  const written = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(written.architectures, ['LlamaForCausalLM']);
  assert.equal(written.vocab_size, 128);
  assert.deepEqual({ ...readModelConfig(dir), raw: null }, { ...cfg, vocabSize: 128, raw: null });
  assert.deepEqual(fs.readdirSync(dir), ['config.json']);
});

test('bad configs are refused with the file and field named', () => {
  const empty = tempDir('prefdyn-cfg-');
  assert.throws(() => readModelConfig(empty), {
    message: `${empty}: no config.json (a model folder needs the Hugging Face config.json)`,
  });
  const cases: [unknown, string][] = [
    [
      { ...LLAMA, model_type: 'bert' },
      'model_type "bert" is not supported (supported: llama, gpt2, gpt_neox, gemma, gemma2)',
    ],
    [
      { ...LLAMA, model_type: undefined },
      'missing field "model_type" (supported: llama, gpt2, gpt_neox, gemma, gemma2)',
    ],
    [{ ...LLAMA, hidden_size: undefined }, 'missing field "hidden_size" (a positive integer)'],
    [{ ...LLAMA, hidden_size: '32' }, 'field "hidden_size" must be a positive integer, got "32"'],
    [{ ...LLAMA, rms_norm_eps: -1 }, 'field "rms_norm_eps" must be a positive number, got -1'],
    [{ ...LLAMA, tie_word_embeddings: 'yes' }, 'field "tie_word_embeddings" must be true or false, got "yes"'],
    [
      { ...LLAMA, attention_bias: true },
      'attention_bias = true is not supported (biases in the attention projections); prefdyn needs it false or absent',
    ],
    [
      { ...LLAMA, mlp_bias: true },
      'mlp_bias = true is not supported (biases in the MLP); prefdyn needs it false or absent',
    ],
    [{ ...LLAMA, hidden_act: 'gelu' }, 'field "hidden_act" must be one of "silu", got "gelu"'],
    [{ ...LLAMA, num_key_value_heads: 3 }, 'num_attention_heads 4 is not a multiple of num_key_value_heads 3'],
    [
      { ...LLAMA, num_attention_heads: 5, num_key_value_heads: 5 },
      'hidden size 32 is not divisible by the 5 attention heads',
    ],
    [
      { ...GPT2_SMALL, activation_function: 'relu' },
      'field "activation_function" must be one of "gelu_new", "gelu_pytorch_tanh", got "relu"',
    ],
    [{ ...GPT2_SMALL, n_layer: 0 }, 'field "n_layer" must be a positive integer, got 0'],
    [[1, 2], 'must be a JSON object'],
  ];
  for (const [json, message] of cases) {
    const dir = dirWith(json);
    assert.throws(() => readModelConfig(dir), { message: `${path.join(dir, 'config.json')}: ${message}` });
  }
  const bad = dirWith({});
  fs.writeFileSync(path.join(bad, 'config.json'), '{"model_type": ');
  assert.throws(
    () => readModelConfig(bad),
    (err: Error) => err.message.startsWith(`${path.join(bad, 'config.json')}: not valid JSON (`),
  );
  // Read through util/json-file.ts like every JSON file: an unreadable config.json is the user's, not a bug.
  const unreadable = tempDir('prefdyn-cfg-');
  fs.mkdirSync(path.join(unreadable, 'config.json'));
  assert.throws(
    () => readModelConfig(unreadable),
    (err: Error) =>
      err instanceof UserError && err.message === `${path.join(unreadable, 'config.json')}: is a folder (EISDIR)`,
  );
  fs.rmSync(unreadable, { recursive: true, force: true });
});
