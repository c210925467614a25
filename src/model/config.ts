// Hugging Face config.json of the supported architectures, normalised to one camelCase shape per block
// structure (the Llama family: llama, mistral, qwen2, qwen3; gpt2; gpt_neox; gemma and gemma2). Field names
// and defaults follow transformers' config classes; `raw` keeps the json as read, so writing back preserves
// fields prefdyn does not use (torch_dtype, architectures, ...). Dispatch is one table (FAMILIES): one row
// per model_type, with its parser, its json writer and its tensor list (the models: load.ts's table).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/json-file.js';
import {
  ATTENTION_PROJECTIONS,
  Fields,
  headDimOf,
  llamaLayoutJson,
  llamaLayoutTensors,
  type AttentionProjection,
  type CommonConfig,
  type ExpectedTensor,
} from './config-fields.js';
import { gemmaJson, gemmaTensors, parseGemma, type GemmaConfig } from './gemma-config.js';
import { gptNeoxJson, gptNeoxTensors, parseGptNeox, type GptNeoxConfig } from './gpt-neox-config.js';
import { parseRope, type RopeConfig } from './rope-scaling.js';

export type { ExpectedTensor } from './config-fields.js';
export type { GemmaConfig } from './gemma-config.js';
export type { GptNeoxConfig } from './gpt-neox-config.js';

/** The Hugging Face model_type values that share the Llama block (src/model/llama.ts). */
export type LlamaFamily = 'llama' | 'mistral' | 'qwen2' | 'qwen3';

export interface LlamaConfig extends CommonConfig {
  arch: 'llama';
  /** config.json's model_type: which options below the family reads. */
  modelType: LlamaFamily;
  /** Grouped-query attention: numAttentionHeads is a multiple of it. */
  numKeyValueHeads: number;
  rmsNormEps: number;
  rope: RopeConfig;
  /** Attention projections with a bias (Qwen2: q, k, v; attention_bias: all four). */
  attentionBiases: readonly AttentionProjection[];
  mlpBias: boolean;
  /** Qwen3: RMSNorm over head_dim of each query and key head (q_norm, k_norm), before RoPE. */
  qkNorm: boolean;
  /** Mistral: each position attends to the sliding_window latest positions, itself included; null: all. */
  slidingWindow: number | null;
}

export interface Gpt2Config extends CommonConfig {
  arch: 'gpt2';
  layerNormEpsilon: number;
}

export type ModelConfig = LlamaConfig | Gpt2Config | GptNeoxConfig | GemmaConfig;
/** The block structure, and so the model class (load.ts): several model_types share 'llama'. */
export type Arch = ModelConfig['arch'];
/** The config type of a block structure (GemmaConfig serves both gemma and gemma2). */
export type ConfigOf<A extends Arch, C extends ModelConfig = ModelConfig> = C extends unknown
  ? A extends C['arch']
    ? C
    : never
  : never;
export const CONFIG_FILE = 'config.json';

/**
 * The fields every Llama-family config.json shares, with transformers' defaults; each model_type's parser
 * adds its own options. rope_theta defaults to 10000 in every family's config class.
 */
function parseLlamaCommon(
  file: string,
  json: Record<string, unknown>,
  modelType: LlamaFamily,
  defaults: { maxPositionEmbeddings: number; headDim?: number },
): Omit<LlamaConfig, 'attentionBiases' | 'mlpBias' | 'qkNorm' | 'slidingWindow'> {
  const f = new Fields(file, json);
  f.oneOf('hidden_act', ['silu'], 'silu');
  const hiddenSize = f.positiveInt('hidden_size');
  const numAttentionHeads = f.positiveInt('num_attention_heads');
  const numKeyValueHeads = f.positiveInt('num_key_value_heads', numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new UserError(
      `${file}: num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`,
    );
  }
  const headDim = f.has('head_dim')
    ? f.positiveInt('head_dim')
    : (defaults.headDim ?? headDimOf(file, hiddenSize, numAttentionHeads));
  if (headDim % 2 !== 0) throw new UserError(`${file}: head_dim ${headDim} must be even (RoPE rotates pairs)`);
  return {
    arch: 'llama',
    modelType,
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    numHiddenLayers: f.positiveInt('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    vocabSize: f.positiveInt('vocab_size'),
    maxPositionEmbeddings: f.positiveInt('max_position_embeddings', defaults.maxPositionEmbeddings),
    rmsNormEps: f.positiveNumber('rms_norm_eps', 1e-6),
    rope: parseRope(file, json, { defaultTheta: 10000 }),
    tieWordEmbeddings: f.boolean('tie_word_embeddings', false),
    raw: json,
  };
}

/** Qwen2/Qwen3's sliding window is off in every released model (use_sliding_window false): refused when on. */
function refuseQwenSlidingWindow(file: string, json: Record<string, unknown>): void {
  const f = new Fields(file, json);
  f.unsupported('use_sliding_window', 'sliding-window attention on the layers from max_window_layers');
  const types = json.layer_types;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.some((t) => t !== 'full_attention')) {
      throw new UserError(
        `${file}: layer_types ${JSON.stringify(types)} is not supported; prefdyn needs every layer "full_attention"`,
      );
    }
  }
}

/** LlamaConfig: attention_bias (all four attention projections) and mlp_bias. */
function parseLlama(file: string, json: Record<string, unknown>): LlamaConfig {
  const f = new Fields(file, json);
  return {
    ...parseLlamaCommon(file, json, 'llama', { maxPositionEmbeddings: 2048 }),
    attentionBiases: f.boolean('attention_bias', false) ? ATTENTION_PROJECTIONS : [],
    mlpBias: f.boolean('mlp_bias', false),
    qkNorm: false,
    slidingWindow: null,
  };
}

/** MistralConfig: sliding_window (default 4096 as in MistralConfig; null: full attention), no biases. */
function parseMistral(file: string, json: Record<string, unknown>): LlamaConfig {
  const f = new Fields(file, json);
  return {
    ...parseLlamaCommon(file, json, 'mistral', { maxPositionEmbeddings: 4096 * 32 }),
    attentionBiases: [],
    mlpBias: false,
    qkNorm: false,
    slidingWindow: f.positiveIntOrNull('sliding_window', 4096),
  };
}

/** Qwen2Config (Qwen2, Qwen2.5): q, k and v projections always have a bias, o_proj none. */
function parseQwen2(file: string, json: Record<string, unknown>): LlamaConfig {
  refuseQwenSlidingWindow(file, json);
  return {
    ...parseLlamaCommon(file, json, 'qwen2', { maxPositionEmbeddings: 32768 }),
    attentionBiases: ['q_proj', 'k_proj', 'v_proj'],
    mlpBias: false,
    qkNorm: false,
    slidingWindow: null,
  };
}

/** Qwen3Config: q_norm/k_norm per head, attention_bias (all four projections), head_dim default 128. */
function parseQwen3(file: string, json: Record<string, unknown>): LlamaConfig {
  refuseQwenSlidingWindow(file, json);
  const f = new Fields(file, json);
  return {
    ...parseLlamaCommon(file, json, 'qwen3', { maxPositionEmbeddings: 32768, headDim: 128 }),
    attentionBiases: f.boolean('attention_bias', false) ? ATTENTION_PROJECTIONS : [],
    mlpBias: false,
    qkNorm: true,
    slidingWindow: null,
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

export function readModelConfig(dir: string): ModelConfig {
  const file = path.join(dir, CONFIG_FILE);
  // A `dir` that is a file is left to the read, which says so (ENOTDIR).
  if (!fs.existsSync(file) && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== false)
    throw new UserError(`${dir}: no ${CONFIG_FILE} (a model folder needs the Hugging Face config.json)`);
  return parseModelConfig(readJsonFile(file), file);
}

/** RoPE stays in the spelling it was read in (rope_parameters, or rope_theta and rope_scaling), which never changes. */
function llamaJson(cfg: LlamaConfig): Record<string, unknown> {
  return {
    ...cfg.raw,
    model_type: cfg.modelType,
    ...llamaLayoutJson(cfg),
    hidden_act: 'silu',
    rms_norm_eps: cfg.rmsNormEps,
    ...(cfg.raw.rope_parameters ? {} : { rope_theta: cfg.rope.theta }),
    ...(cfg.modelType === 'mistral' ? { sliding_window: cfg.slidingWindow } : {}),
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

function llamaTensors(cfg: LlamaConfig): ExpectedTensor[] {
  return llamaLayoutTensors(cfg, cfg);
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

interface FamilyRow {
  /** The model class in config.json's "architectures". */
  architecture: string;
  /** The block structure (and so the model class in prefdyn). */
  arch: Arch;
  parse(file: string, json: Record<string, unknown>): ModelConfig;
  /** The config as Hugging Face json: `raw` with the normalised fields written over it. */
  json(cfg: ModelConfig): Record<string, unknown>;
  /** Every weight tensor with its Hugging Face name and shape. */
  tensors(cfg: ModelConfig): ExpectedTensor[];
}

/** A row of FAMILIES; its functions see only configs of their own arch (the table dispatches on it). */
function family<C extends ModelConfig>(
  architecture: string,
  arch: C['arch'],
  parse: (file: string, json: Record<string, unknown>) => C,
  json: (cfg: C) => Record<string, unknown>,
  tensors: (cfg: C) => ExpectedTensor[],
): FamilyRow {
  return {
    architecture,
    arch,
    parse,
    json: json as (cfg: ModelConfig) => Record<string, unknown>,
    tensors: tensors as (cfg: ModelConfig) => ExpectedTensor[],
  };
}

/** One row per supported model_type. */
const FAMILIES = {
  llama: family('LlamaForCausalLM', 'llama', parseLlama, llamaJson, llamaTensors),
  mistral: family('MistralForCausalLM', 'llama', parseMistral, llamaJson, llamaTensors),
  qwen2: family('Qwen2ForCausalLM', 'llama', parseQwen2, llamaJson, llamaTensors),
  qwen3: family('Qwen3ForCausalLM', 'llama', parseQwen3, llamaJson, llamaTensors),
  gpt2: family('GPT2LMHeadModel', 'gpt2', parseGpt2, gpt2Json, gpt2Tensors),
  gpt_neox: family('GPTNeoXForCausalLM', 'gpt_neox', parseGptNeox, gptNeoxJson, gptNeoxTensors),
  gemma: family('GemmaForCausalLM', 'gemma', parseGemma, gemmaJson, gemmaTensors),
  gemma2: family('Gemma2ForCausalLM', 'gemma2', parseGemma, gemmaJson, gemmaTensors),
} satisfies Record<string, FamilyRow>;

/** config.json's model_type: a row of FAMILIES. */
export type ModelType = keyof typeof FAMILIES;
export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILIES) as ModelType[];

/** The model_type a config was read from. */
export function modelTypeOf(cfg: ModelConfig): ModelType {
  return cfg.arch === 'llama' ? cfg.modelType : cfg.arch;
}

/** The row of a supported model_type (callers check it is one of SUPPORTED_MODEL_TYPES). */
export function familyOf(modelType: string): FamilyRow {
  const row: FamilyRow | undefined = Object.hasOwn(FAMILIES, modelType) ? FAMILIES[modelType as ModelType] : undefined;
  if (!row) throw new Error(`familyOf: unknown model_type ${JSON.stringify(modelType)}`);
  return row;
}

function supportedList(): string {
  return Object.entries(FAMILIES)
    .map(([type, row]) => `${type} (${row.architecture})`)
    .join(', ');
}

/** Parses a config.json object; `file` names it in errors. */
export function parseModelConfig(json: unknown, file: string): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UserError(`${file}: must be a JSON object`);
  const obj = json as Record<string, unknown>;
  const type = obj.model_type;
  if (typeof type !== 'string' || !Object.hasOwn(FAMILIES, type)) {
    throw new UserError(
      type === undefined
        ? `${file}: missing field "model_type" (supported: ${supportedList()})`
        : `${file}: model_type ${JSON.stringify(type)} is not supported (supported: ${supportedList()})`,
    );
  }
  const row = familyOf(type);
  const archs = obj.architectures;
  if (
    archs !== undefined &&
    archs !== null &&
    !(Array.isArray(archs) && archs.length === 1 && archs[0] === row.architecture)
  ) {
    throw new UserError(
      `${file}: architectures ${JSON.stringify(archs)} is not supported for model_type ${JSON.stringify(type)} ` +
        `(supported: ${supportedList()})`,
    );
  }
  return row.parse(file, obj);
}

/** The config as Hugging Face json: `raw` with the normalised fields written over it. */
export function modelConfigJson(cfg: ModelConfig): Record<string, unknown> {
  return familyOf(modelTypeOf(cfg)).json(cfg);
}

export function writeModelConfig(dir: string, cfg: ModelConfig): void {
  writeFileAtomic(path.join(dir, CONFIG_FILE), JSON.stringify(modelConfigJson(cfg), null, 2) + '\n');
}

/** Every weight tensor of the architecture with its Hugging Face name and shape. */
export function expectedTensors(cfg: ModelConfig): ExpectedTensor[] {
  return familyOf(modelTypeOf(cfg)).tensors(cfg);
}

/** Parameter count from the shapes alone. */
export function parameterCount(cfg: ModelConfig): number {
  return expectedTensors(cfg).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}
