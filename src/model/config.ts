// Hugging Face config.json for the two supported architectures, normalised to one camelCase shape.
// Field names and defaults follow transformers' LlamaConfig and GPT2Config; `raw` keeps the json as
// read, so writing back preserves fields prefdyn does not use (torch_dtype, architectures, ...).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/json-file.js';

interface CommonConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** hiddenSize / numAttentionHeads unless config.json gives head_dim (llama). */
  headDim: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  raw: Record<string, unknown>;
}

export interface LlamaConfig extends CommonConfig {
  arch: 'llama';
  /** Grouped-query attention: numAttentionHeads is a multiple of it. */
  numKeyValueHeads: number;
  rmsNormEps: number;
  ropeTheta: number;
}

export interface Gpt2Config extends CommonConfig {
  arch: 'gpt2';
  layerNormEpsilon: number;
}

export type ModelConfig = LlamaConfig | Gpt2Config;
export type Arch = ModelConfig['arch'];
export const SUPPORTED_MODEL_TYPES: readonly Arch[] = ['llama', 'gpt2'];
export const CONFIG_FILE = 'config.json';

/** Reads field values from config.json, naming the file and field in every error. */
class Fields {
  constructor(
    private readonly file: string,
    private readonly json: Record<string, unknown>,
  ) {}

  private fail(key: string, want: string): never {
    const value = this.json[key];
    throw new UserError(
      value === undefined
        ? `${this.file}: missing field "${key}" (${want})`
        : `${this.file}: field "${key}" must be ${want}, got ${JSON.stringify(value)}`,
    );
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) this.fail(key, 'a positive integer');
    return v;
  }

  positiveNumber(key: string, fallback: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, 'a positive number');
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    return v as T;
  }

  /** Features prefdyn does not implement must be off (absent, null or false). */
  unsupported(key: string, what: string): void {
    const v = this.json[key];
    if (v !== undefined && v !== null && v !== false) {
      throw new UserError(
        `${this.file}: ${key} = ${JSON.stringify(v)} is not supported (${what}); prefdyn needs it false or absent`,
      );
    }
  }
}

function headDimOf(file: string, hidden: number, heads: number): number {
  if (hidden % heads !== 0) {
    throw new UserError(`${file}: hidden size ${hidden} is not divisible by the ${heads} attention heads`);
  }
  return hidden / heads;
}

function parseLlama(file: string, json: Record<string, unknown>): LlamaConfig {
  const f = new Fields(file, json);
  f.unsupported('attention_bias', 'biases in the attention projections');
  f.unsupported('mlp_bias', 'biases in the MLP');
  f.unsupported('rope_scaling', 'scaled RoPE');
  f.oneOf('hidden_act', ['silu'], 'silu');
  const hiddenSize = f.positiveInt('hidden_size');
  const numAttentionHeads = f.positiveInt('num_attention_heads');
  const numKeyValueHeads = f.positiveInt('num_key_value_heads', numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new UserError(
      `${file}: num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`,
    );
  }
  const headDim =
    json.head_dim === undefined || json.head_dim === null
      ? headDimOf(file, hiddenSize, numAttentionHeads)
      : f.positiveInt('head_dim');
  return {
    arch: 'llama',
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    numHiddenLayers: f.positiveInt('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    vocabSize: f.positiveInt('vocab_size'),
    maxPositionEmbeddings: f.positiveInt('max_position_embeddings', 2048),
    rmsNormEps: f.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta: f.positiveNumber('rope_theta', 10000),
    tieWordEmbeddings: f.boolean('tie_word_embeddings', false),
    raw: json,
  };
}

function parseGpt2(file: string, json: Record<string, unknown>): Gpt2Config {
  const f = new Fields(file, json);
  f.oneOf('activation_function', ['gelu_new', 'gelu_pytorch_tanh'], 'gelu_new');
  f.unsupported('scale_attn_by_inverse_layer_idx', 'per-layer attention scaling');
  f.unsupported('reorder_and_upcast_attn', 'reordered attention');
  f.unsupported('add_cross_attention', 'cross-attention');
  if (f.boolean('scale_attn_weights', true) !== true) {
    throw new UserError(`${file}: scale_attn_weights = false is not supported; prefdyn needs it true or absent`);
  }
  const hiddenSize = f.positiveInt('n_embd');
  const numAttentionHeads = f.positiveInt('n_head');
  return {
    arch: 'gpt2',
    hiddenSize,
    intermediateSize: json.n_inner === undefined || json.n_inner === null ? 4 * hiddenSize : f.positiveInt('n_inner'),
    numHiddenLayers: f.positiveInt('n_layer'),
    numAttentionHeads,
    headDim: headDimOf(file, hiddenSize, numAttentionHeads),
    vocabSize: f.positiveInt('vocab_size'),
    maxPositionEmbeddings: f.positiveInt('n_positions', 1024),
    layerNormEpsilon: f.positiveNumber('layer_norm_epsilon', 1e-5),
    // GPT2Config ties lm_head to wte by default; an untied lm_head (a trained head) is stored as lm_head.weight.
    tieWordEmbeddings: f.boolean('tie_word_embeddings', true),
    raw: json,
  };
}

/** Parses a config.json object; `file` names it in errors. */
export function parseModelConfig(json: unknown, file: string): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UserError(`${file}: must be a JSON object`);
  const obj = json as Record<string, unknown>;
  const type = obj.model_type;
  if (type === 'llama') return parseLlama(file, obj);
  if (type === 'gpt2') return parseGpt2(file, obj);
  throw new UserError(
    type === undefined
      ? `${file}: missing field "model_type" (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`
      : `${file}: model_type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
  );
}

export function readModelConfig(dir: string): ModelConfig {
  const file = path.join(dir, CONFIG_FILE);
  // A `dir` that is a file is left to the read, which says so (ENOTDIR).
  if (!fs.existsSync(file) && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== false)
    throw new UserError(`${dir}: no ${CONFIG_FILE} (a model folder needs the Hugging Face config.json)`);
  return parseModelConfig(readJsonFile(file), file);
}

/** The config as Hugging Face json: `raw` with the normalised fields written over it. */
export function modelConfigJson(cfg: ModelConfig): Record<string, unknown> {
  if (cfg.arch === 'llama') {
    return {
      ...cfg.raw,
      model_type: 'llama',
      hidden_size: cfg.hiddenSize,
      intermediate_size: cfg.intermediateSize,
      num_hidden_layers: cfg.numHiddenLayers,
      num_attention_heads: cfg.numAttentionHeads,
      num_key_value_heads: cfg.numKeyValueHeads,
      head_dim: cfg.headDim,
      hidden_act: 'silu',
      rms_norm_eps: cfg.rmsNormEps,
      rope_theta: cfg.ropeTheta,
      vocab_size: cfg.vocabSize,
      max_position_embeddings: cfg.maxPositionEmbeddings,
      tie_word_embeddings: cfg.tieWordEmbeddings,
    };
  }
  return {
    ...cfg.raw,
    model_type: 'gpt2',
    n_embd: cfg.hiddenSize,
    n_inner: cfg.intermediateSize,
    n_layer: cfg.numHiddenLayers,
    n_head: cfg.numAttentionHeads,
    n_positions: cfg.maxPositionEmbeddings,
    vocab_size: cfg.vocabSize,
    layer_norm_epsilon: cfg.layerNormEpsilon,
    activation_function: cfg.raw.activation_function ?? 'gelu_new',
    tie_word_embeddings: cfg.tieWordEmbeddings,
  };
}

export function writeModelConfig(dir: string, cfg: ModelConfig): void {
  writeFileAtomic(path.join(dir, CONFIG_FILE), JSON.stringify(modelConfigJson(cfg), null, 2) + '\n');
}

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/**
 * Every weight tensor of the architecture with its Hugging Face name and shape. GPT-2 names are those
 * of GPT2Model (no "transformer." prefix), plus GPT2LMHeadModel's lm_head.weight when untied; its
 * Conv1D weights are stored [in, out].
 */
export function expectedTensors(cfg: ModelConfig): ExpectedTensor[] {
  const d = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const ff = cfg.intermediateSize;
  const out: ExpectedTensor[] = [];
  if (cfg.arch === 'llama') {
    const q = cfg.numAttentionHeads * cfg.headDim;
    const kv = cfg.numKeyValueHeads * cfg.headDim;
    out.push({ name: 'model.embed_tokens.weight', shape: [V, d] });
    for (let i = 0; i < cfg.numHiddenLayers; i++) {
      const p = `model.layers.${i}.`;
      out.push(
        { name: `${p}input_layernorm.weight`, shape: [d] },
        { name: `${p}self_attn.q_proj.weight`, shape: [q, d] },
        { name: `${p}self_attn.k_proj.weight`, shape: [kv, d] },
        { name: `${p}self_attn.v_proj.weight`, shape: [kv, d] },
        { name: `${p}self_attn.o_proj.weight`, shape: [d, q] },
        { name: `${p}post_attention_layernorm.weight`, shape: [d] },
        { name: `${p}mlp.gate_proj.weight`, shape: [ff, d] },
        { name: `${p}mlp.up_proj.weight`, shape: [ff, d] },
        { name: `${p}mlp.down_proj.weight`, shape: [d, ff] },
      );
    }
    out.push({ name: 'model.norm.weight', shape: [d] });
    if (!cfg.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, d] });
    return out;
  }
  out.push({ name: 'wte.weight', shape: [V, d] }, { name: 'wpe.weight', shape: [cfg.maxPositionEmbeddings, d] });
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `h.${i}.`;
    out.push(
      { name: `${p}ln_1.weight`, shape: [d] },
      { name: `${p}ln_1.bias`, shape: [d] },
      { name: `${p}attn.c_attn.weight`, shape: [d, 3 * d] },
      { name: `${p}attn.c_attn.bias`, shape: [3 * d] },
      { name: `${p}attn.c_proj.weight`, shape: [d, d] },
      { name: `${p}attn.c_proj.bias`, shape: [d] },
      { name: `${p}ln_2.weight`, shape: [d] },
      { name: `${p}ln_2.bias`, shape: [d] },
      { name: `${p}mlp.c_fc.weight`, shape: [d, ff] },
      { name: `${p}mlp.c_fc.bias`, shape: [ff] },
      { name: `${p}mlp.c_proj.weight`, shape: [ff, d] },
      { name: `${p}mlp.c_proj.bias`, shape: [d] },
    );
  }
  out.push({ name: 'ln_f.weight', shape: [d] }, { name: 'ln_f.bias', shape: [d] });
  if (!cfg.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, d] });
  return out;
}

/** Parameter count from the shapes alone. */
export function parameterCount(cfg: ModelConfig): number {
  return expectedTensors(cfg).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}
