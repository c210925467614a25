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
const SUPPORTED =
  'llama (LlamaForCausalLM), mistral (MistralForCausalLM), qwen2 (Qwen2ForCausalLM), qwen3 (Qwen3ForCausalLM), ' +
  'gpt2 (GPT2LMHeadModel), gpt_neox (GPTNeoXForCausalLM), gemma (GemmaForCausalLM), gemma2 (Gemma2ForCausalLM)';
const LLAMA3_SCALING = {
  rope_type: 'llama3',
  factor: 8,
  low_freq_factor: 1,
  high_freq_factor: 4,
  original_max_position_embeddings: 8192,
};
const MISTRAL = { ...LLAMA, model_type: 'mistral', architectures: ['MistralForCausalLM'] };
const QWEN2 = { ...LLAMA, model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] };
const QWEN3 = { ...LLAMA, model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'] };
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
  assert.deepEqual(cfg.rope, { theta: 10000, scaling: { type: 'default' } });
  assert.equal(cfg.tieWordEmbeddings, false);
  const noKv = parseModelConfig({ ...LLAMA, num_key_value_heads: undefined, head_dim: 16, rope_theta: 5e5 }, 'c');
  assert.ok(noKv.arch === 'llama' && noKv.numKeyValueHeads === 4 && noKv.headDim === 16 && noKv.rope.theta === 5e5);
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
    [{ ...LLAMA, model_type: 'bert' }, `model_type "bert" is not supported (supported: ${SUPPORTED})`],
    [{ ...LLAMA, model_type: undefined }, `missing field "model_type" (supported: ${SUPPORTED})`],
    [
      { ...LLAMA, architectures: ['LlamaForSequenceClassification'] },
      `architectures ["LlamaForSequenceClassification"] is not supported for model_type "llama" (supported: ${SUPPORTED})`,
    ],
    [
      { ...LLAMA, rope_scaling: { rope_type: 'yarn', factor: 4 } },
      'field "rope_scaling.rope_type" must be one of "default", "linear", "dynamic", "llama3", got "yarn"',
    ],
    [
      { ...LLAMA, rope_scaling: { type: 'longrope', factor: 4 } },
      'field "rope_scaling.type" must be one of "default", "linear", "dynamic", "llama3", got "longrope"',
    ],
    [
      { ...LLAMA, rope_theta: undefined, rope_parameters: { rope_type: 'yarn', rope_theta: 1e6 } },
      'field "rope_parameters.rope_type" must be one of "default", "linear", "dynamic", "llama3", got "yarn"',
    ],
    [{ ...LLAMA, rope_scaling: { rope_type: 'linear' } }, 'missing field "rope_scaling.factor" (a positive number)'],
    [
      { ...LLAMA, rope_scaling: { ...LLAMA3_SCALING, high_freq_factor: 1 } },
      'rope_scaling.high_freq_factor 1 must exceed rope_scaling.low_freq_factor 1',
    ],
    [
      { ...LLAMA, rope_theta: 1e4, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } },
      'rope_theta 10000 and rope_parameters.rope_theta 500000 disagree',
    ],
    [
      { ...LLAMA, rope_scaling: { rope_type: 'linear', factor: 2 }, rope_parameters: { rope_type: 'default' } },
      'rope_scaling (transformers 4) and rope_parameters (transformers 5) disagree: ' +
        '{"type":"linear","factor":2} against {"type":"default"}',
    ],
    [{ ...LLAMA, head_dim: 5 }, 'head_dim 5 must be even (RoPE rotates pairs)'],
    [
      { ...QWEN2, use_sliding_window: true },
      'use_sliding_window = true is not supported (sliding-window attention on the layers from max_window_layers); prefdyn needs it false or absent',
    ],
    [
      { ...QWEN2, layer_types: ['full_attention', 'sliding_attention'] },
      'layer_types ["full_attention","sliding_attention"] is not supported; prefdyn needs every layer "full_attention"',
    ],
    [{ ...MISTRAL, sliding_window: 0 }, 'field "sliding_window" must be a positive integer, got 0'],
    [{ ...LLAMA, hidden_size: undefined }, 'missing field "hidden_size" (a positive integer)'],
    [{ ...LLAMA, hidden_size: '32' }, 'field "hidden_size" must be a positive integer, got "32"'],
    [{ ...LLAMA, rms_norm_eps: -1 }, 'field "rms_norm_eps" must be a positive number, got -1'],
    [{ ...LLAMA, tie_word_embeddings: 'yes' }, 'field "tie_word_embeddings" must be true or false, got "yes"'],
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

test('rope: the transformers-5 spelling (rope_parameters, no rope_theta) reads as the transformers-4 one', () => {
  const { rope_type: type, ...options } = LLAMA3_SCALING;
  const v4 = parseModelConfig({ ...LLAMA, rope_theta: 5e5, rope_scaling: { rope_type: type, ...options } }, 'c');
  const v5 = parseModelConfig({ ...LLAMA, rope_parameters: { rope_type: type, rope_theta: 5e5, ...options } }, 'c');
  // A legacy "type" key, as Llama-3.1 configs written by older transformers have it.
  const legacy = parseModelConfig({ ...LLAMA, rope_theta: 5e5, rope_scaling: { type, ...options } }, 'c');
  const llama3 = {
    theta: 5e5,
    scaling: {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    },
  };
  for (const cfg of [v4, v5, legacy]) assert.deepEqual(cfg.arch === 'llama' && cfg.rope, llama3);
  // Both spellings at once are accepted when they agree.
  const both = parseModelConfig(
    {
      ...LLAMA,
      rope_theta: 5e5,
      rope_scaling: LLAMA3_SCALING,
      rope_parameters: { ...LLAMA3_SCALING, rope_theta: 5e5 },
    },
    'c',
  );
  assert.ok(both.arch === 'llama' && both.rope.theta === 5e5 && both.rope.scaling.type === 'llama3');
  // Written back in the spelling read: no top-level rope_theta appears next to rope_parameters.
  const dir = dirWith({ ...LLAMA, rope_parameters: { rope_type: 'linear', rope_theta: 1e6, factor: 2 } });
  writeModelConfig(dir, readModelConfig(dir));
  const written = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(written.rope_theta, undefined);
  assert.deepEqual(written.rope_parameters, { rope_type: 'linear', rope_theta: 1e6, factor: 2 });
  const again = readModelConfig(dir);
  assert.ok(again.arch === 'llama' && again.rope.theta === 1e6 && again.rope.scaling.type === 'linear');
});

test('llama family: each model_type reads its own options with transformers defaults', () => {
  const cases: [unknown, Partial<Record<string, unknown>>][] = [
    [LLAMA, { modelType: 'llama', attentionBiases: [], mlpBias: false, qkNorm: false, slidingWindow: null }],
    [
      { ...LLAMA, attention_bias: true, mlp_bias: true },
      { attentionBiases: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], mlpBias: true },
    ],
    // MistralConfig's sliding_window defaults to 4096; null means full attention.
    [MISTRAL, { modelType: 'mistral', slidingWindow: 4096, attentionBiases: [] }],
    [{ ...MISTRAL, sliding_window: null }, { slidingWindow: null }],
    [{ ...MISTRAL, sliding_window: 3 }, { slidingWindow: 3 }],
    [QWEN2, { modelType: 'qwen2', attentionBiases: ['q_proj', 'k_proj', 'v_proj'], qkNorm: false }],
    [
      { ...QWEN2, use_sliding_window: false, layer_types: ['full_attention', 'full_attention'] },
      { slidingWindow: null },
    ],
    // Qwen3Config's head_dim defaults to 128, whatever hidden_size / heads is.
    [QWEN3, { modelType: 'qwen3', headDim: 128, qkNorm: true, attentionBiases: [] }],
    [
      { ...QWEN3, head_dim: 16, attention_bias: true },
      { headDim: 16, attentionBiases: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
    ],
  ];
  for (const [json, want] of cases) {
    const cfg = parseModelConfig(json, 'c') as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(want))
      assert.deepEqual(cfg[key], value, `${JSON.stringify(json)}: ${key}`);
  }
});

test('expectedTensors: biases of the Llama family and Qwen3 q_norm/k_norm', () => {
  const names = (json: unknown): Map<string, number[]> =>
    new Map(expectedTensors(parseModelConfig(json, 'c')).map((t) => [t.name, t.shape]));
  const qwen2 = names(QWEN2);
  assert.deepEqual(qwen2.get('model.layers.0.self_attn.q_proj.bias'), [32]);
  assert.deepEqual(qwen2.get('model.layers.0.self_attn.k_proj.bias'), [16]);
  assert.deepEqual(qwen2.get('model.layers.0.self_attn.v_proj.bias'), [16]);
  assert.equal(qwen2.has('model.layers.0.self_attn.o_proj.bias'), false);
  assert.equal(qwen2.size, expectedTensors(parseModelConfig(LLAMA, 'c')).length + 2 * 3);
  const qwen3 = names({ ...QWEN3, head_dim: 16 });
  assert.deepEqual(qwen3.get('model.layers.1.self_attn.q_norm.weight'), [16]);
  assert.deepEqual(qwen3.get('model.layers.1.self_attn.k_norm.weight'), [16]);
  assert.deepEqual(qwen3.get('model.layers.1.self_attn.q_proj.weight'), [64, 32]); // 4 heads x head_dim 16
  assert.deepEqual(qwen3.get('model.layers.1.self_attn.o_proj.weight'), [32, 64]);
  const biased = names({ ...LLAMA, attention_bias: true, mlp_bias: true });
  assert.deepEqual(biased.get('model.layers.0.self_attn.o_proj.bias'), [32]);
  assert.deepEqual(biased.get('model.layers.0.mlp.gate_proj.bias'), [48]);
  assert.deepEqual(biased.get('model.layers.0.mlp.down_proj.bias'), [32]);
});
