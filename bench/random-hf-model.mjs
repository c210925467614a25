// Seeded random BF16 Llama-family models at real sizes, written twice from the same values: as a
// Hugging Face folder (config.json, sharded BF16 safetensors + index, the bundled tiny tokenizer) and
// as GGUF for llama.cpp (same BF16 bytes; q/k rows permuted as llama.cpp's convert_hf_to_gguf.py does,
// since llama.cpp's "llama" RoPE pairs adjacent dimensions where Hugging Face rotates halves).
// Weights: uniform with std 0.02 (each tensor from its own stream, Rng.derive(seed, name)), norms 1.
// Tensors are generated one at a time; a shard is written when it reaches SHARD_BYTES of BF16.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openGguf } from './gguf.mjs';
import { bytesFromFloats, f32ToBf16Bits, bf16BitsToF32 } from '../dist/src/model/dtype.js';
import { writeSafetensors } from '../dist/src/model/safetensors.js';
import { writeJsonAtomic } from '../dist/src/util/atomic-write.js';
import { Rng } from '../dist/src/util/rng.js';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
// ids of the bundled tiny tokenizer (vocabulary 8192) fit every size below.
const TOKENIZER_DIR = path.join(repo, 'models', 'prefdyn-tiny');
const SHARD_BYTES = 1 << 30;
const STD = 0.02;

/**
 * Hugging Face configs. '0.5b' has Qwen2.5-0.5B's shapes but is a LlamaForCausalLM: prefdyn reads no
 * Qwen2 yet, so the q/k/v biases (0.3M of 494M parameters) are left out. '7b' is Llama-2-7B.
 */
export const SIZES = {
  // a few MB, to check the harness end to end in seconds
  smoke: {
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 176,
    vocab_size: 8192,
    tie_word_embeddings: true,
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 2048,
  },
  '0.5b': {
    hidden_size: 896,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    intermediate_size: 4864,
    vocab_size: 151936,
    tie_word_embeddings: true,
    rope_theta: 1000000,
    rms_norm_eps: 1e-6,
    max_position_embeddings: 32768,
  },
  '7b': {
    hidden_size: 4096,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 32,
    intermediate_size: 11008,
    vocab_size: 32000,
    tie_word_embeddings: false,
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 4096,
  },
};

/** The model's tensors in HF order: { hf, gguf, shape [out, in] or [d], norm, permuteHeads? }. */
export function tensorList(c) {
  const d = c.hidden_size;
  const hd = d / c.num_attention_heads;
  const out = [{ hf: 'model.embed_tokens.weight', gguf: 'token_embd.weight', shape: [c.vocab_size, d] }];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const b = `blk.${l}`;
    out.push(
      { hf: `${p}.input_layernorm.weight`, gguf: `${b}.attn_norm.weight`, shape: [d], norm: true },
      {
        hf: `${p}.self_attn.q_proj.weight`,
        gguf: `${b}.attn_q.weight`,
        shape: [c.num_attention_heads * hd, d],
        permuteHeads: c.num_attention_heads,
      },
      {
        hf: `${p}.self_attn.k_proj.weight`,
        gguf: `${b}.attn_k.weight`,
        shape: [c.num_key_value_heads * hd, d],
        permuteHeads: c.num_key_value_heads,
      },
      { hf: `${p}.self_attn.v_proj.weight`, gguf: `${b}.attn_v.weight`, shape: [c.num_key_value_heads * hd, d] },
      { hf: `${p}.self_attn.o_proj.weight`, gguf: `${b}.attn_output.weight`, shape: [d, c.num_attention_heads * hd] },
      { hf: `${p}.post_attention_layernorm.weight`, gguf: `${b}.ffn_norm.weight`, shape: [d], norm: true },
      { hf: `${p}.mlp.gate_proj.weight`, gguf: `${b}.ffn_gate.weight`, shape: [c.intermediate_size, d] },
      { hf: `${p}.mlp.up_proj.weight`, gguf: `${b}.ffn_up.weight`, shape: [c.intermediate_size, d] },
      { hf: `${p}.mlp.down_proj.weight`, gguf: `${b}.ffn_down.weight`, shape: [d, c.intermediate_size] },
    );
  }
  out.push({ hf: 'model.norm.weight', gguf: 'output_norm.weight', shape: [d], norm: true });
  if (!c.tie_word_embeddings) out.push({ hf: 'lm_head.weight', gguf: 'output.weight', shape: [c.vocab_size, d] });
  return out;
}

export const parameterCount = (c) => tensorList(c).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);

/** Values of one tensor: BF16-representable floats (so writing them as BF16 is exact). */
function values(t, seed) {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.norm) return new Float32Array(n).fill(1);
  const rng = Rng.derive(seed, t.hf);
  const half = STD * Math.sqrt(3); // uniform on [-half, half] has std STD
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = bf16BitsToF32(f32ToBf16Bits((2 * rng.uniform() - 1) * half));
  return data;
}

/** HF [heads * hd, in] with each head's rows as (half, i) -> llama.cpp's (i, half) order. */
function permutedRows(data, heads, rows, cols) {
  const hd = rows / heads;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < hd / 2; i++)
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + j * (hd / 2) + i) * cols;
        out.set(data.subarray(from, from + cols), (h * hd + 2 * i + j) * cols);
      }
  return out;
}

/** A SentencePiece-style GGUF vocabulary of `n` tokens (control, 256 byte tokens, fillers): ids are fed directly. */
function ggufVocabulary(n) {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3]; // unknown, control, control
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6); // byte
  }
  while (tokens.length < n) {
    tokens.push(`\u2581t${tokens.length}`);
    types.push(1); // normal
  }
  return {
    'tokenizer.ggml.model': { str: 'llama' },
    'tokenizer.ggml.tokens': { strs: tokens },
    'tokenizer.ggml.scores': { f32s: tokens.map((_, i) => -i) },
    'tokenizer.ggml.token_type': { i32s: types },
    'tokenizer.ggml.bos_token_id': { u32: 1 },
    'tokenizer.ggml.eos_token_id': { u32: 2 },
    'tokenizer.ggml.unknown_token_id': { u32: 0 },
  };
}

function ggufMetadata(c, name) {
  return {
    'general.architecture': { str: 'llama' },
    'general.name': { str: name },
    'general.file_type': { u32: 32 }, // LLAMA_FTYPE_MOSTLY_BF16
    'llama.context_length': { u32: c.max_position_embeddings },
    'llama.embedding_length': { u32: c.hidden_size },
    'llama.block_count': { u32: c.num_hidden_layers },
    'llama.feed_forward_length': { u32: c.intermediate_size },
    'llama.rope.dimension_count': { u32: c.hidden_size / c.num_attention_heads },
    'llama.attention.head_count': { u32: c.num_attention_heads },
    'llama.attention.head_count_kv': { u32: c.num_key_value_heads },
    'llama.attention.layer_norm_rms_epsilon': { f32: c.rms_norm_eps },
    'llama.rope.freq_base': { f32: c.rope_theta },
    'llama.vocab_size': { u32: c.vocab_size },
    ...ggufVocabulary(c.vocab_size),
  };
}

/**
 * Writes size `size` with `seed` to `dir` (HF folder) and, when `gguf`, `dir`/model.gguf, unless
 * `dir`/bench-model.json says they are there already. Returns the HF config.
 */
export function writeRandomModel(dir, size, seed, { gguf = true, log = () => {} } = {}) {
  const c = SIZES[size];
  const stamp = path.join(dir, 'bench-model.json');
  const want = { size, seed, std: STD, config: c };
  if (fs.existsSync(stamp)) {
    const { gguf: hasGguf, ...have } = JSON.parse(fs.readFileSync(stamp, 'utf8'));
    if (JSON.stringify(have) === JSON.stringify(want) && (hasGguf || !gguf)) return c;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    ...c,
    head_dim: c.hidden_size / c.num_attention_heads,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    initializer_range: STD,
    bos_token_id: 8191,
    eos_token_id: 8191,
    torch_dtype: 'bfloat16',
  };
  writeJsonAtomic(path.join(dir, 'config.json'), config);
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    fs.copyFileSync(path.join(TOKENIZER_DIR, f), path.join(dir, f));
  const list = tensorList(c);
  const ggufFile = gguf
    ? openGguf(
        path.join(dir, 'model.gguf'),
        ggufMetadata(c, `prefdyn random ${size}`),
        list.map((t) => ({ name: t.gguf, shape: t.shape, type: t.norm ? 'F32' : 'BF16' })),
      )
    : undefined;
  const shards = []; // tensor names per written shard
  let current = [];
  let currentBytes = 0;
  const flush = () => {
    // Named model-0000k-of-0000n once n is known (renamed below).
    writeSafetensors(path.join(dir, `shard-${shards.length + 1}.tmp`), current);
    shards.push(current.map((s) => s.name));
    current = [];
    currentBytes = 0;
  };
  for (const [i, t] of list.entries()) {
    const data = values(t, seed);
    if (currentBytes > 0 && currentBytes + 2 * data.length > SHARD_BYTES) flush();
    current.push({ name: t.hf, shape: t.shape, data, dtype: 'BF16' });
    currentBytes += 2 * data.length;
    if (ggufFile) {
      const g = t.permuteHeads ? permutedRows(data, t.permuteHeads, t.shape[0], t.shape[1]) : data;
      ggufFile.write(t.gguf, t.norm ? new Uint8Array(g.buffer) : bytesFromFloats('BF16', g));
    }
    if (i % 40 === 0) log(`  ${i + 1}/${list.length} tensors`);
  }
  flush();
  ggufFile?.close();
  const weightMap = {};
  let totalBytes = 0;
  shards.forEach((names, k) => {
    const file = `model-${String(k + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    fs.renameSync(path.join(dir, `shard-${k + 1}.tmp`), path.join(dir, file));
    for (const n of names) weightMap[n] = file;
    totalBytes += fs.statSync(path.join(dir, file)).size;
  });
  writeJsonAtomic(path.join(dir, 'model.safetensors.index.json'), {
    metadata: { total_size: totalBytes },
    weight_map: weightMap,
  });
  writeJsonAtomic(stamp, { ...want, gguf });
  return c;
}
