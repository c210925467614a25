// Hugging Face config.json for the supported architectures, normalised to one camelCase shape per
// family and dispatched by model_type through one table (FAMILIES). Field names and defaults follow
// transformers' config classes; `raw` keeps the json as read, so writing back preserves fields prefdyn
// does not use (torch_dtype, architectures, ...).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/json-file.js';
import { Fields, headDimOf, type CommonConfig, type ExpectedTensor } from './config-fields.js';
import { gemmaJson, gemmaTensors, parseGemma, type GemmaConfig } from './gemma-config.js';
import { gptNeoxJson, gptNeoxTensors, parseGptNeox, type GptNeoxConfig } from './gpt-neox-config.js';

export type { ExpectedTensor } from './config-fields.js';
export type { GemmaConfig } from './gemma-config.js';
export type { GptNeoxConfig } from './gpt-neox-config.js';

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

export type ModelConfig = LlamaConfig | Gpt2Config | GptNeoxConfig | GemmaConfig;
/** config.json's model_type. */
export type Arch = ModelConfig['arch'];
export const CONFIG_FILE = 'config.json';

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
  if (typeof type === 'string' && Object.hasOwn(FAMILIES, type)) return FAMILIES[type as Arch].parse(file, obj);
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

function llamaJson(cfg: LlamaConfig): Record<string, unknown> {
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

function gpt2Json(cfg: Gpt2Config): Record<string, unknown> {
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

/** The config as Hugging Face json: `raw` with the normalised fields written over it. */
export function modelConfigJson(cfg: ModelConfig): Record<string, unknown> {
  return familyOf(cfg).json(cfg);
}

export function writeModelConfig(dir: string, cfg: ModelConfig): void {
  writeFileAtomic(path.join(dir, CONFIG_FILE), JSON.stringify(modelConfigJson(cfg), null, 2) + '\n');
}

function llamaTensors(cfg: LlamaConfig): ExpectedTensor[] {
  const d = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const ff = cfg.intermediateSize;
  const out: ExpectedTensor[] = [];
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

/**
 * GPT-2 names are those of GPT2Model (no "transformer." prefix), plus GPT2LMHeadModel's lm_head.weight
 * when untied; its Conv1D weights are stored [in, out].
 */
function gpt2Tensors(cfg: Gpt2Config): ExpectedTensor[] {
  const d = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const ff = cfg.intermediateSize;
  const out: ExpectedTensor[] = [];
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

/** The config type of a model_type (GemmaConfig serves both gemma and gemma2). */
export type ConfigOf<A extends Arch, C extends ModelConfig = ModelConfig> = C extends unknown
  ? A extends C['arch']
    ? C
    : never
  : never;

interface Family<C extends ModelConfig> {
  parse(file: string, json: Record<string, unknown>): C;
  json(cfg: C): Record<string, unknown>;
  tensors(cfg: C): ExpectedTensor[];
}

/** The supported families by model_type: one row each (the models themselves: load.ts's table). */
const FAMILIES: { [A in Arch]: Family<ConfigOf<A>> } = {
  llama: { parse: parseLlama, json: llamaJson, tensors: llamaTensors },
  gpt2: { parse: parseGpt2, json: gpt2Json, tensors: gpt2Tensors },
  gpt_neox: { parse: parseGptNeox, json: gptNeoxJson, tensors: gptNeoxTensors },
  gemma: { parse: parseGemma, json: gemmaJson, tensors: gemmaTensors },
  gemma2: { parse: parseGemma, json: gemmaJson, tensors: gemmaTensors },
};

export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILIES) as Arch[];

function familyOf<C extends ModelConfig>(cfg: C): Family<C> {
  return FAMILIES[cfg.arch] as unknown as Family<C>;
}

/** Every weight tensor of the architecture with its Hugging Face name and shape. */
export function expectedTensors(cfg: ModelConfig): ExpectedTensor[] {
  return familyOf(cfg).tensors(cfg);
}

/** Parameter count from the shapes alone. */
export function parameterCount(cfg: ModelConfig): number {
  return expectedTensors(cfg).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}
