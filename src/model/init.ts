// Random models for tests and pretraining: a config from a size spec, and weights initialised as
// Hugging Face does (_init_weights): every matrix and embedding normal(0, 0.02), norm weights 1, biases 0;
// GPT-2's residual projections (c_proj) normal(0, 0.02 / sqrt(2 n_layer)). Each tensor draws from its
// own stream, Rng.derive(seed, name), so a tensor's values depend only on the seed and its name.
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Weights } from './checkpoint.js';
import {
  expectedTensors,
  familyOf,
  parseModelConfig,
  SUPPORTED_MODEL_TYPES,
  type Arch,
  type ModelConfig,
} from './config.js';

export const INITIALIZER_RANGE = 0.02;

export interface SizeSpec {
  d: number;
  layers: number;
  heads: number;
  /** Key/value heads (llama; default heads). */
  kv?: number;
  /** MLP width (default: llama 8d/3 rounded up to a multiple of 16, gpt2 4d). */
  ffn?: number;
  vocab?: number;
  /** Maximum sequence length (max_position_embeddings / n_positions; default 512). */
  ctx?: number;
  /** RoPE theta (llama; default 10000). */
  theta?: number;
  /** Tied lm_head (llama; default true; gpt2 is always tied). */
  tied?: boolean;
  /** Sliding window (mistral; default none). */
  window?: number;
}

/** The block structures `model init` creates (GPT-NeoX and Gemma are read, not made). */
export type InitArch = Extract<Arch, 'llama' | 'gpt2'>;

/** Named sizes; Llama's use grouped-query attention (2 kv heads). "small" is the benchmark's size. */
export const SIZE_PRESETS: Record<InitArch, Record<string, SizeSpec>> = {
  llama: { tiny: { d: 64, layers: 2, heads: 4, kv: 2 }, small: { d: 256, layers: 4, heads: 4, kv: 2 } },
  gpt2: { tiny: { d: 64, layers: 2, heads: 4 }, small: { d: 256, layers: 4, heads: 4 } },
};

/** The model_types `model init` creates: those of an InitArch (llama, mistral, qwen2, qwen3, gpt2). */
export const INIT_MODEL_TYPES = SUPPORTED_MODEL_TYPES.filter((t) => Object.hasOwn(SIZE_PRESETS, familyOf(t).arch));

/** The block structure of a model_type `model init` creates; any other model_type is refused. */
export function initArchOf(modelType: string): InitArch {
  const { arch } = familyOf(modelType);
  if (arch !== 'llama' && arch !== 'gpt2') {
    throw new UserError(
      `model init creates ${INIT_MODEL_TYPES.join(', ')} models, not ${modelType} (read such a model from its folder instead)`,
    );
  }
  return arch;
}

const KEYS = ['d', 'layers', 'heads', 'kv', 'ffn', 'vocab', 'ctx', 'theta', 'tied', 'window'] as const;

/** "tiny", "small", or "d=64,layers=2,heads=4[,kv=2][,ffn=..][,vocab=..][,ctx=..][,theta=..][,tied=true|false][,window=..]", or a preset plus overrides ("tiny,vocab=1025"). */
export function parseSizeSpec(spec: string, arch: InitArch): SizeSpec {
  const presets = SIZE_PRESETS[arch];
  const out: Partial<SizeSpec> = {};
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (Object.hasOwn(presets, part)) {
      Object.assign(out, presets[part]);
      continue;
    }
    const [key, value, ...rest] = part.split('=');
    if (value === undefined || rest.length > 0 || !(KEYS as readonly string[]).includes(key!)) {
      throw new UserError(
        `--size: "${part}" is not a preset (${Object.keys(presets).join(', ')}) or KEY=VALUE with KEY one of ${KEYS.join(', ')}`,
      );
    }
    if (key === 'tied') {
      if (value !== 'true' && value !== 'false')
        throw new UserError(`--size: tied must be true or false, got "${value}"`);
      out.tied = value === 'true';
    } else {
      const n = Number(value);
      const ok = key === 'theta' ? n > 0 : Number.isSafeInteger(n) && n > 0;
      if (!ok)
        throw new UserError(
          `--size: ${key} must be a positive ${key === 'theta' ? 'number' : 'integer'}, got "${value}"`,
        );
      (out as Record<string, number>)[key!] = n;
    }
  }
  for (const key of ['d', 'layers', 'heads'] as const) {
    if (out[key] === undefined)
      throw new UserError(
        `--size "${spec}": ${key} is missing (e.g. "d=64,layers=2,heads=4" or a preset: ${Object.keys(presets).join(', ')})`,
      );
  }
  return out as SizeSpec;
}

/** What a new model of each Llama-family model_type writes beyond the Llama fields. */
const LLAMA_FAMILY_FIELDS: Record<string, (size: SizeSpec) => Record<string, unknown>> = {
  llama: () => ({ attention_bias: false, mlp_bias: false }),
  mistral: (size) => ({ sliding_window: size.window ?? null }),
  qwen2: () => ({ use_sliding_window: false }),
  // Qwen3Config's head_dim defaults to 128, not hidden_size / heads.
  qwen3: (size) => ({ head_dim: size.d / size.heads, attention_bias: false, use_sliding_window: false }),
};

/** The Hugging Face config of a new model of a model_type, parsed (and so validated) like any config.json. */
export function initConfig(
  modelType: string,
  size: SizeSpec,
  vocab: number,
  special: { bos?: number; eos?: number } = {},
): ModelConfig {
  const arch = initArchOf(modelType);
  const { architecture } = familyOf(modelType);
  if (arch === 'gpt2' && (size.kv !== undefined || size.theta !== undefined || size.tied === false)) {
    throw new UserError(
      '--size: kv, theta and tied=false are Llama options; GPT-2 has neither grouped-query attention nor RoPE, and ties lm_head',
    );
  }
  if (size.window !== undefined && modelType !== 'mistral')
    throw new UserError(`--size: window (a sliding window) is a Mistral option, not one of ${modelType}`);
  const ctx = size.ctx ?? 512;
  const ids = {
    ...(special.bos !== undefined ? { bos_token_id: special.bos } : {}),
    ...(special.eos !== undefined ? { eos_token_id: special.eos } : {}),
  };
  const json =
    arch === 'llama'
      ? {
          architectures: [architecture],
          model_type: modelType,
          vocab_size: vocab,
          hidden_size: size.d,
          intermediate_size: size.ffn ?? Math.ceil((8 * size.d) / 3 / 16) * 16,
          num_hidden_layers: size.layers,
          num_attention_heads: size.heads,
          num_key_value_heads: size.kv ?? size.heads,
          hidden_act: 'silu',
          max_position_embeddings: ctx,
          rms_norm_eps: 1e-5,
          rope_theta: size.theta ?? 10000,
          tie_word_embeddings: size.tied ?? true,
          ...LLAMA_FAMILY_FIELDS[modelType]!(size),
          initializer_range: INITIALIZER_RANGE,
          torch_dtype: 'float32',
          ...ids,
        }
      : {
          architectures: ['GPT2LMHeadModel'],
          model_type: 'gpt2',
          vocab_size: vocab,
          n_embd: size.d,
          n_layer: size.layers,
          n_head: size.heads,
          n_inner: size.ffn ?? 4 * size.d,
          n_positions: ctx,
          n_ctx: ctx,
          layer_norm_epsilon: 1e-5,
          activation_function: 'gelu_new',
          initializer_range: INITIALIZER_RANGE,
          tie_word_embeddings: true,
          torch_dtype: 'float32',
          ...ids,
        };
  return parseModelConfig(json, '--size');
}

/** One weight of a new model with Hugging Face's initialisation, seeded by (seed, name): norms 1, biases 0, else normal. */
export function initTensor(config: ModelConfig, seed: number, name: string, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const isNorm = /norm\.weight$|ln_\w+\.weight$/.test(name);
  if (isNorm) data.fill(1);
  else if (!name.endsWith('.bias')) {
    const residualStd = INITIALIZER_RANGE / Math.sqrt(2 * config.numHiddenLayers);
    const std = config.arch === 'gpt2' && name.endsWith('c_proj.weight') ? residualStd : INITIALIZER_RANGE;
    const rng = Rng.derive(seed, name);
    for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
  }
  return data;
}

/** Weights of a new model with Hugging Face's initialisation, seeded. */
export function initWeights(config: ModelConfig, seed: number): Weights {
  const weights: Weights = new Map();
  for (const { name, shape } of expectedTensors(config))
    weights.set(name, { shape, data: initTensor(config, seed, name, shape) });
  return weights;
}
