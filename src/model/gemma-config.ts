// Gemma and Gemma-2 config.json: GemmaConfig's and Gemma2Config's field names and defaults, in the
// transformers 4 spelling (rope_theta; Gemma-2's alternation implied) and the transformers 5 one
// (rope_parameters; Gemma-2's layer_types). Tensor names are the Llama layout's plus Gemma-2's extra norms.
import { UserError } from '../util/errors.js';
import {
  ATTENTION_PROJECTIONS,
  Fields,
  GELU_ACTIVATIONS,
  llamaLayoutJson,
  llamaLayoutTensors,
  GELU_NAMES,
  type CommonConfig,
  type ExpectedTensor,
  type GeluKind,
} from './config-fields.js';
import { parseRope, parseRotaryFraction, type RopeConfig } from './rope-scaling.js';

export interface GemmaConfig extends CommonConfig {
  arch: 'gemma' | 'gemma2';
  numKeyValueHeads: number;
  rmsNormEps: number;
  /** Unscaled RoPE (rope_type "default" only: Gemma and Gemma-2 have no scaling). */
  rope: RopeConfig;
  /** Biases on q/k/v/o_proj (attention_bias, default false). */
  attentionBias: boolean;
  gelu: GeluKind;
  /** Attention scores are q.k * queryPreAttnScalar^-0.5 (Gemma: head_dim, the usual 1/sqrt(head_dim)). */
  queryPreAttnScalar: number;
  /** Gemma-2's attention-score and final-logit soft-capping c (s -> c tanh(s / c)); null: none. */
  attnLogitSoftcapping: number | null;
  finalLogitSoftcapping: number | null;
  /** Per layer: the sliding window it attends within, or null for full causal attention. */
  layerWindows: (number | null)[];
}

const LAYER_TYPES = ['sliding_attention', 'full_attention'] as const;

/**
 * Which Gemma-2 layers use the sliding window: config.json's layer_types (transformers >= 4.53) or,
 * without it, the rule of transformers 4.42+'s Gemma2DecoderLayer: is_sliding = not bool(layer_idx % 2),
 * so layers 0, 2, 4, ... slide and the odd ones attend to everything.
 */
function gemma2SlidingLayers(file: string, json: Record<string, unknown>, layers: number): boolean[] {
  const types = json.layer_types;
  if (types === undefined || types === null) return Array.from({ length: layers }, (_, i) => i % 2 === 0);
  if (
    !Array.isArray(types) ||
    types.length !== layers ||
    !types.every((t) => (LAYER_TYPES as readonly unknown[]).includes(t))
  ) {
    throw new UserError(
      `${file}: field "layer_types" must list ${layers} entries, each "sliding_attention" or "full_attention"`,
    );
  }
  return types.map((t) => t === 'sliding_attention');
}

export function parseGemma(file: string, json: Record<string, unknown>): GemmaConfig {
  const f = new Fields(file, json);
  const isGemma2 = json.model_type === 'gemma2';
  f.unsupported('use_bidirectional_attention', 'bidirectional attention');
  // transformers' GemmaMLP uses hidden_activation and, when it is absent, gelu_pytorch_tanh whatever
  // hidden_act says (old Gemma configs carry hidden_act "gelu"): Gemma was trained with the tanh GELU.
  f.oneOf('hidden_act', GELU_NAMES, 'gelu_pytorch_tanh');
  const act = f.oneOf('hidden_activation', GELU_NAMES, 'gelu_pytorch_tanh');
  const hiddenSize = f.positiveInt('hidden_size');
  const numAttentionHeads = f.positiveInt('num_attention_heads');
  const numKeyValueHeads = f.positiveInt('num_key_value_heads', isGemma2 ? 4 : 16);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new UserError(
      `${file}: num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`,
    );
  }
  const headDim = f.positiveInt('head_dim', 256);
  if (headDim % 2 !== 0) throw new UserError(`${file}: head_dim ${headDim} must be even for RoPE`);
  const rope = parseRope(file, json, { defaultTheta: 10000, types: ['default'] });
  const partial = parseRotaryFraction(file, json, [], 1);
  if (partial !== 1)
    throw new UserError(`${file}: partial_rotary_factor ${partial} is not supported (Gemma rotates every channel)`);
  const numHiddenLayers = f.positiveInt('num_hidden_layers');
  const window = isGemma2 ? f.positiveInt('sliding_window', 4096) : null;
  const sliding = isGemma2 ? gemma2SlidingLayers(file, json, numHiddenLayers) : [];
  return {
    arch: isGemma2 ? 'gemma2' : 'gemma',
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    vocabSize: f.positiveInt('vocab_size'),
    maxPositionEmbeddings: f.positiveInt('max_position_embeddings', 8192),
    tieWordEmbeddings: f.boolean('tie_word_embeddings', true),
    rmsNormEps: f.positiveNumber('rms_norm_eps', 1e-6),
    rope,
    attentionBias: f.boolean('attention_bias', false),
    gelu: GELU_ACTIVATIONS[act],
    queryPreAttnScalar: isGemma2 ? f.positiveNumber('query_pre_attn_scalar', 256) : headDim,
    attnLogitSoftcapping: isGemma2 ? f.positiveOrNull('attn_logit_softcapping', 50) : null,
    finalLogitSoftcapping: isGemma2 ? f.positiveOrNull('final_logit_softcapping', 30) : null,
    layerWindows: Array.from({ length: numHiddenLayers }, (_, i) => (sliding[i] ? window : null)),
    raw: json,
  };
}

export function gemmaJson(cfg: GemmaConfig): Record<string, unknown> {
  return {
    ...cfg.raw,
    model_type: cfg.arch,
    ...llamaLayoutJson(cfg),
    vocab_size: cfg.vocabSize,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    rms_norm_eps: cfg.rmsNormEps,
    attention_bias: cfg.attentionBias,
    tie_word_embeddings: cfg.tieWordEmbeddings,
  };
}

/**
 * GemmaForCausalLM's / Gemma2ForCausalLM's tensors: the Llama layout (RMSNorm weights are the w of 1 + w)
 * plus Gemma-2's norms around the MLP.
 */
export function gemmaTensors(cfg: GemmaConfig): ExpectedTensor[] {
  return llamaLayoutTensors(cfg, {
    attentionBiases: cfg.attentionBias ? ATTENTION_PROJECTIONS : [],
    mlpBias: false,
    qkNorm: false,
    layerNorms: cfg.arch === 'gemma2' ? ['pre_feedforward_layernorm', 'post_feedforward_layernorm'] : [],
  });
}
