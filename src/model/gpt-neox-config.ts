// GPT-NeoX (Pythia) config.json: GPTNeoXConfig's field names and defaults, in the transformers 4 spelling
// (rotary_pct, rotary_emb_base) and the transformers 5 one (rope_parameters {rope_theta,
// partial_rotary_factor}); tensor names are GPTNeoXForCausalLM's (gpt_neox. prefix, untied embed_out).
import { UserError } from '../util/errors.js';
import {
  Fields,
  GELU_ACTIVATIONS,
  GELU_NAMES,
  headDimOf,
  type CommonConfig,
  type ExpectedTensor,
  type GeluKind,
} from './config-fields.js';
import { parseRope, parseRotaryFraction, type RopeConfig } from './rope-scaling.js';

export interface GptNeoxConfig extends CommonConfig {
  arch: 'gpt_neox';
  layerNormEps: number;
  /** x + attn(ln1(x)) + mlp(ln2(x)) when true; x += attn(ln1(x)); x += mlp(ln2(x)) when false. */
  useParallelResidual: boolean;
  /** Leading channels of each head that RoPE rotates: int(head_dim * rotary_pct) (HF's rotary_ndims). */
  rotaryDims: number;
  /** Unscaled RoPE (rope_type "default" only: prefdyn implements no scaling for GPT-NeoX). */
  rope: RopeConfig;
  /** Biases on query_key_value and dense (attention_bias, default true). */
  attentionBias: boolean;
  gelu: GeluKind;
}

export function parseGptNeox(file: string, json: Record<string, unknown>): GptNeoxConfig {
  const f = new Fields(file, json);
  const act = f.oneOf('hidden_act', GELU_NAMES, 'gelu');
  const hiddenSize = f.positiveInt('hidden_size');
  const numAttentionHeads = f.positiveInt('num_attention_heads');
  const headDim = headDimOf(file, hiddenSize, numAttentionHeads);
  // GPTNeoXConfig: rotary_emb_base (older rope_theta), rotary_pct; transformers 5: rope_parameters.
  const rope = parseRope(file, json, {
    defaultTheta: 10000,
    thetaKeys: ['rotary_emb_base', 'rope_theta'],
    types: ['default'],
  });
  const partial = parseRotaryFraction(file, json, ['rotary_pct', 'partial_rotary_factor'], 0.25);
  const rotaryDims = Math.floor(headDim * partial);
  if (rotaryDims % 2 !== 0) {
    throw new UserError(
      `${file}: rotary_pct ${partial} rotates ${rotaryDims} of the ${headDim} channels of each head; RoPE needs an even number`,
    );
  }
  return {
    arch: 'gpt_neox',
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    numHiddenLayers: f.positiveInt('num_hidden_layers'),
    numAttentionHeads,
    headDim,
    vocabSize: f.positiveInt('vocab_size'),
    maxPositionEmbeddings: f.positiveInt('max_position_embeddings', 2048),
    tieWordEmbeddings: f.boolean('tie_word_embeddings', false),
    layerNormEps: f.positiveNumber('layer_norm_eps', 1e-5),
    useParallelResidual: f.boolean('use_parallel_residual', true),
    rotaryDims,
    rope,
    attentionBias: f.boolean('attention_bias', true),
    gelu: GELU_ACTIVATIONS[act],
    raw: json,
  };
}

export function gptNeoxJson(cfg: GptNeoxConfig): Record<string, unknown> {
  return {
    ...cfg.raw,
    model_type: 'gpt_neox',
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    vocab_size: cfg.vocabSize,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    layer_norm_eps: cfg.layerNormEps,
    use_parallel_residual: cfg.useParallelResidual,
    attention_bias: cfg.attentionBias,
    tie_word_embeddings: cfg.tieWordEmbeddings,
  };
}

/** GPTNeoXForCausalLM's tensors: nn.Linear weights [out, in]; LayerNorms with biases. */
export function gptNeoxTensors(cfg: GptNeoxConfig): ExpectedTensor[] {
  const { hiddenSize: d, vocabSize: V, intermediateSize: ff } = cfg;
  const out: ExpectedTensor[] = [{ name: 'gpt_neox.embed_in.weight', shape: [V, d] }];
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `gpt_neox.layers.${i}.`;
    out.push(
      { name: `${p}input_layernorm.weight`, shape: [d] },
      { name: `${p}input_layernorm.bias`, shape: [d] },
      { name: `${p}post_attention_layernorm.weight`, shape: [d] },
      { name: `${p}post_attention_layernorm.bias`, shape: [d] },
      { name: `${p}attention.query_key_value.weight`, shape: [3 * d, d] },
      ...(cfg.attentionBias ? [{ name: `${p}attention.query_key_value.bias`, shape: [3 * d] }] : []),
      { name: `${p}attention.dense.weight`, shape: [d, d] },
      ...(cfg.attentionBias ? [{ name: `${p}attention.dense.bias`, shape: [d] }] : []),
      { name: `${p}mlp.dense_h_to_4h.weight`, shape: [ff, d] },
      { name: `${p}mlp.dense_h_to_4h.bias`, shape: [ff] },
      { name: `${p}mlp.dense_4h_to_h.weight`, shape: [d, ff] },
      { name: `${p}mlp.dense_4h_to_h.bias`, shape: [d] },
    );
  }
  out.push(
    { name: 'gpt_neox.final_layer_norm.weight', shape: [d] },
    { name: 'gpt_neox.final_layer_norm.bias', shape: [d] },
  );
  if (!cfg.tieWordEmbeddings) out.push({ name: 'embed_out.weight', shape: [V, d] });
  return out;
}
