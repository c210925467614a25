// Gemma and Gemma-2 config.json: GemmaConfig's and Gemma2Config's field names and defaults, in the
// transformers 4 spelling (rope_theta; Gemma-2's alternation implied) and the transformers 5 one
// (rope_parameters; Gemma-2's layer_types). Tensor names are the Llama layout's plus Gemma-2's extra norms.
import { UserError } from '../util/errors.js';
import {
  Fields,
  GELU_ACTIVATIONS,
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
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    num_key_value_heads: cfg.numKeyValueHeads,
    head_dim: cfg.headDim,
    vocab_size: cfg.vocabSize,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    rms_norm_eps: cfg.rmsNormEps,
    attention_bias: cfg.attentionBias,
    tie_word_embeddings: cfg.tieWordEmbeddings,
  };
}

/** GemmaForCausalLM's / Gemma2ForCausalLM's tensors (nn.Linear weights [out, in]; RMSNorm weights w of 1 + w). */
export function gemmaTensors(cfg: GemmaConfig): ExpectedTensor[] {
  const { hiddenSize: d, vocabSize: V, intermediateSize: ff } = cfg;
  const q = cfg.numAttentionHeads * cfg.headDim;
  const kv = cfg.numKeyValueHeads * cfg.headDim;
  const out: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [V, d] }];
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `model.layers.${i}.`;
    const proj = (name: string, outF: number, inF: number): ExpectedTensor[] => [
      { name: `${p}self_attn.${name}.weight`, shape: [outF, inF] },
      ...(cfg.attentionBias ? [{ name: `${p}self_attn.${name}.bias`, shape: [outF] }] : []),
    ];
    out.push(
      { name: `${p}input_layernorm.weight`, shape: [d] },
      ...proj('q_proj', q, d),
      ...proj('k_proj', kv, d),
      ...proj('v_proj', kv, d),
      ...proj('o_proj', d, q),
      { name: `${p}post_attention_layernorm.weight`, shape: [d] },
      ...(cfg.arch === 'gemma2'
        ? [
            { name: `${p}pre_feedforward_layernorm.weight`, shape: [d] },
            { name: `${p}post_feedforward_layernorm.weight`, shape: [d] },
          ]
        : []),
      { name: `${p}mlp.gate_proj.weight`, shape: [ff, d] },
      { name: `${p}mlp.up_proj.weight`, shape: [ff, d] },
      { name: `${p}mlp.down_proj.weight`, shape: [d, ff] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [d] });
  if (!cfg.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, d] });
  return out;
}
