import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadWeights, saveCheckpoint, validateCheckpoint, type Weights } from '../src/model/checkpoint.js';
import { expectedTensors, parseModelConfig, type ModelConfig } from '../src/model/config.js';
import { bf16BitsToF32, f32ToBf16Bits } from '../src/model/dtype.js';
import { SafetensorsFile, writeSafetensors } from '../src/model/safetensors.js';
import { fixturesDir, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const LLAMA = {
  model_type: 'llama',
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 1025,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 32,
};
const GPT2 = { model_type: 'gpt2', n_embd: 16, n_layer: 2, n_head: 2, n_positions: 32, vocab_size: 1025 };
const SMALL_TOKENIZER = path.join(fixturesDir, 'tokenizers', 'gpt2-small');

/** Distinct, deterministic values for every weight of `cfg`. */
function weightsFor(cfg: ModelConfig): Weights {
  let k = 0;
  return new Map(
    expectedTensors(cfg).map(({ name, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return [name, { shape, data: Float32Array.from({ length: n }, () => Math.sin(++k) * 0.1) }];
    }),
  );
}

test('saveCheckpoint then loadWeights round-trips a Llama model with GQA (untied and tied)', async () => {
  for (const tie of [false, true]) {
    const cfg = parseModelConfig({ ...LLAMA, tie_word_embeddings: tie }, 'config.json');
    const weights = weightsFor(cfg);
    const dir = path.join(tempDir('prefdyn-ckpt-'), 'model');
    saveCheckpoint(dir, cfg, weights, SMALL_TOKENIZER);
    assert.deepEqual(fs.readdirSync(dir).sort(), [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const loaded = await loadWeights(dir);
    assert.deepEqual(loaded.weights, weights);
    assert.equal(loaded.config.arch, 'llama');
    assert.equal(loaded.config.tieWordEmbeddings, tie);
    const f = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    assert.deepEqual(f.metadata, { format: 'pt' }); // transformers refuses files without it
    f.close();
  }
});

test('a BF16 checkpoint loads as the BF16-rounded values and says so in config.json', async () => {
  const cfg = parseModelConfig(GPT2, 'config.json');
  const weights = weightsFor(cfg);
  const dir = path.join(tempDir('prefdyn-ckpt-'), 'bf16');
  saveCheckpoint(dir, cfg, weights, undefined, { dtype: 'BF16' });
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  const { weights: loaded } = await loadWeights(dir);
  for (const [name, w] of weights) {
    assert.deepEqual(
      loaded.get(name)!.data,
      Float32Array.from(w.data, (v) => bf16BitsToF32(f32ToBf16Bits(v))),
      name,
    );
  }
  assert.deepEqual(validateCheckpoint(dir).dtypes, new Map([['BF16', expectedTensors(cfg).length]]));
});

test('GPT2LMHeadModel checkpoints: "transformer." prefix and attention buffers are accepted', async () => {
  const cfg = parseModelConfig(GPT2, 'config.json');
  const weights = weightsFor(cfg);
  const dir = tempDir('prefdyn-ckpt-');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(GPT2));
  writeSafetensors(path.join(dir, 'model.safetensors'), [
    ...[...weights].map(([name, w]) => ({ name: `transformer.${name}`, shape: w.shape, data: w.data })),
    { name: 'transformer.h.0.attn.bias', shape: [1, 1, 2, 2], data: new Float32Array([1, 0, 1, 1]) },
    { name: 'lm_head.weight', shape: [1025, 16], data: weights.get('wte.weight')!.data },
  ]);
  assert.deepEqual(validateCheckpoint(dir).skipped, ['lm_head.weight', 'transformer.h.0.attn.bias']);
  assert.deepEqual((await loadWeights(dir)).weights, weights);
});

test('a wrong checkpoint is refused before any weight is read, naming file and tensor', () => {
  const cfg = parseModelConfig(LLAMA, 'config.json');
  const weights = weightsFor(cfg);
  const write = (edit: (list: { name: string; shape: number[]; data: Float32Array }[]) => void): string => {
    const dir = tempDir('prefdyn-ckpt-');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(LLAMA));
    const list = [...weights].map(([name, w]) => ({ name, shape: w.shape, data: w.data }));
    edit(list);
    writeSafetensors(path.join(dir, 'model.safetensors'), list);
    return dir;
  };
  const file = (dir: string): string => path.join(dir, 'model.safetensors');
  let dir = write((l) =>
    l.splice(
      l.findIndex((t) => t.name === 'model.layers.1.mlp.up_proj.weight'),
      1,
    ),
  );
  assert.throws(() => validateCheckpoint(dir), {
    message: `${file(dir)}: missing tensor "model.layers.1.mlp.up_proj.weight" (expected shape [24, 16] for this llama config.json)`,
  });
  dir = write((l) => {
    l.find((t) => t.name === 'model.norm.weight')!.shape = [4, 4];
  });
  assert.throws(() => validateCheckpoint(dir), {
    message: `${file(dir)}: tensor "model.norm.weight" has shape [4, 4], expected [16] from config.json`,
  });
  dir = write((l) => l.push({ name: 'model.layers.0.self_attn.q_proj.bias', shape: [16], data: new Float32Array(16) }));
  assert.throws(() => validateCheckpoint(dir), {
    message: `${file(dir)}: unexpected tensor "model.layers.0.self_attn.q_proj.bias": not part of a llama model with this config.json`,
  });
  // An integer tensor where a weight belongs: rewrite the header's dtype (F32 -> I32 keeps the byte count).
  dir = write(() => {});
  const bytes = fs.readFileSync(file(dir));
  const text = bytes
    .toString('latin1')
    .replace('"model.norm.weight":{"dtype":"F32"', '"model.norm.weight":{"dtype":"I32"');
  fs.writeFileSync(file(dir), Buffer.from(text, 'latin1'));
  assert.throws(() => validateCheckpoint(dir), {
    message: `${file(dir)}: tensor "model.norm.weight" has dtype I32; expected a float dtype (F32, F16, BF16, F64)`,
  });
  // Truncated: the last tensor is cut.
  dir = write(() => {});
  fs.truncateSync(file(dir), fs.statSync(file(dir)).size - 10);
  assert.throws(() => validateCheckpoint(dir), /truncated\)$/);
});

test('saveCheckpoint replaces a model folder but refuses any other folder', () => {
  const cfg = parseModelConfig(GPT2, 'config.json');
  const root = tempDir('prefdyn-ckpt-');
  const dir = path.join(root, 'm');
  saveCheckpoint(dir, cfg, weightsFor(cfg));
  fs.writeFileSync(path.join(dir, 'stale.txt'), 'x');
  assert.throws(() => saveCheckpoint(dir, cfg, weightsFor(cfg), SMALL_TOKENIZER), {
    message: `--out ${dir}: holds an entry prefdyn did not write (stale.txt); choose another --out, or give --overwrite to replace the folder, deleting it`,
  });
  saveCheckpoint(dir, cfg, weightsFor(cfg), SMALL_TOKENIZER, { overwrite: true });
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  assert.deepEqual(fs.readdirSync(root), ['m']); // no temporary folder left
  const other = path.join(root, 'notes');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'a.txt'), 'keep');
  assert.throws(() => saveCheckpoint(other, cfg, weightsFor(cfg)), {
    message: `--out ${other}: holds an entry prefdyn did not write (a.txt); choose another --out, or give --overwrite to replace the folder, deleting it`,
  });
  assert.deepEqual(fs.readdirSync(other), ['a.txt']);
  const w = weightsFor(cfg);
  w.delete('ln_f.bias');
  assert.throws(() => saveCheckpoint(path.join(root, 'x'), cfg, w), {
    message: 'saveCheckpoint: no weight "ln_f.bias"',
  });
  assert.equal(fs.existsSync(path.join(root, 'x')), false);
});

test('prefdyn model info prints architecture, size, dtypes and tokenizer; --json too', () => {
  const cfg = parseModelConfig(LLAMA, 'config.json');
  const dir = path.join(tempDir('prefdyn-ckpt-'), 'llama');
  saveCheckpoint(dir, cfg, weightsFor(cfg), SMALL_TOKENIZER, { dtype: 'F16' });
  const params = expectedTensors(cfg).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const text = runCli(['model', 'info', dir]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^arch +llama$/m);
  assert.match(text.stdout, /^heads +4 \(kv heads 2, head dim 4\)$/m);
  assert.match(text.stdout, new RegExp(`^parameters +${params.toLocaleString('en-US')}$`, 'm'));
  assert.match(text.stdout, /^dtypes +F16 \(21 tensors\)$/m);
  assert.match(
    text.stdout,
    /^tokenizer +BPE, 1025 tokens, BOS "<\|endoftext\|>" = 1024, EOS "<\|endoftext\|>" = 1024$/m,
  );
  assert.match(text.stdout, /^answers +in context: " Yes" = 575, 274: 2 tokens, " No" = 399, 78: 2 tokens$/m);
  assert.equal(
    text.stderr,
    `prefdyn: WARNING: " Yes" is 2 tokens and " No" is 2 tokens in context in ${dir}; ` +
      "Persona's Yes/No analysis and --mode last-layer assume one token per answer (theory.md s.2)\n",
  );
  const json = runCli(['model', 'info', dir, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const info = JSON.parse(json.stdout);
  assert.equal(info.parameters, params);
  assert.deepEqual(info.dtypes, { F16: 21 });
  assert.equal(info.kv_heads, 2);
  assert.deepEqual(
    info.files.map((f: { file: string }) => f.file),
    ['model.safetensors'],
  );
  assert.equal(info.files[0].bytes, fs.statSync(path.join(dir, 'model.safetensors')).size);
  assert.deepEqual(info.tokenizer, {
    type: 'BPE',
    vocab_size: 1025,
    bos: { token: '<|endoftext|>', id: 1024 },
    eos: { token: '<|endoftext|>', id: 1024 },
    chat_template: null,
    yes_id: null,
    no_id: null,
    answers: [
      { answer: ' Yes', in_context: [575, 274], separate: [575, 274] },
      { answer: ' No', in_context: [399, 78], separate: [399, 78] },
    ],
  });
});

test('prefdyn model info: bad folders exit 1 with one line naming the problem', () => {
  const empty = tempDir('prefdyn-ckpt-');
  let r = runCli(['model', 'info', empty]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `prefdyn: ${empty}: no config.json (a model folder needs the Hugging Face config.json)\n`);
  const cfg = parseModelConfig({ ...GPT2, vocab_size: 1000 }, 'config.json');
  const dir = path.join(tempDir('prefdyn-ckpt-'), 'small-vocab');
  saveCheckpoint(dir, cfg, weightsFor(cfg), SMALL_TOKENIZER);
  r = runCli(['model', 'info', dir]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `prefdyn: ${path.join(dir, 'tokenizer.json')}: token ids go up to 1024 (1025 tokens), more than the model's vocab_size 1000 in config.json\n`,
  );
  fs.writeFileSync(path.join(empty, 'config.json'), JSON.stringify({ model_type: 'mamba' }));
  r = runCli(['model', 'info', empty]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `prefdyn: ${path.join(empty, 'config.json')}: model_type "mamba" is not supported (supported: llama (LlamaForCausalLM), mistral (MistralForCausalLM), qwen2 (Qwen2ForCausalLM), qwen3 (Qwen3ForCausalLM), gpt2 (GPT2LMHeadModel), gpt_neox (GPTNeoXForCausalLM), gemma (GemmaForCausalLM), gemma2 (Gemma2ForCausalLM))\n`,
  );
  assert.equal(runCli(['model', 'info']).code, 2);
});
