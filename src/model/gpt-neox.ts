// GPT-NeoX (GPTNeoXForCausalLM semantics: the Pythia suite): token embedding embed_in, then per layer
//   parallel (use_parallel_residual):  x = x + attn(ln1(x)) + mlp(ln2(x))
//   sequential:                       x = x + attn(ln1(x)); x = x + mlp(ln2(x))
// with LayerNorms that have biases (input_layernorm = ln1, post_attention_layernorm = ln2), a final
// LayerNorm and an untied embed_out (tied to embed_in when tie_word_embeddings).
// Attention: query_key_value gives [B,T,3d] which HF views as [B,T,H,3*hd] and splits per head into
// q | k | v (each head's three slices side by side: not GPT-2's q | k | v over the whole width). RoPE
// (rotate_half, base rope_theta) turns only the first rotary_ndims = int(hd * rotary_pct) channels of
// each head, with inv_freq over rotary_ndims; scores scaled by 1/sqrt(hd), causal. MLP:
// dense_4h_to_h(gelu(dense_h_to_4h(x))), gelu exact for hidden_act "gelu".
// Shapes: B batch, T time, d hidden, H heads, hd = d/H, r rotary channels, V vocab.
import {
  add,
  causalAttention,
  concat,
  embedding,
  gelu,
  geluExact,
  layernorm,
  narrow,
  reshape,
  rope,
} from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { GptNeoxConfig } from './config.js';
import { checkSequenceLength } from './context-length.js';
import { ropeInverseFrequencies } from './rope-scaling.js';
import { CausalLM, layerProjections, type ForwardOptions, type ProjectionInfo } from './model.js';

export class GptNeox extends CausalLM {
  readonly unembeddingName: string;

  constructor(
    readonly config: GptNeoxConfig,
    weights: Map<string, Tensor>,
  ) {
    super(weights);
    this.unembeddingName = config.tieWordEmbeddings ? 'gpt_neox.embed_in.weight' : 'embed_out.weight';
  }

  projections(): ProjectionInfo[] {
    const { hiddenSize: d, intermediateSize: f } = this.config;
    const shapes: [string, number, number][] = [
      ['attention.query_key_value', d, 3 * d],
      ['attention.dense', d, d],
      ['mlp.dense_h_to_4h', d, f],
      ['mlp.dense_4h_to_h', f, d],
    ];
    return layerProjections(this.config.numHiddenLayers, 'gpt_neox.layers.', shapes, 'linear');
  }

  protected hiddenStates(ids: Int32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const c = this.config;
    checkSequenceLength(c, T);
    const invFreq = ropeInverseFrequencies(c.rope, c.rotaryDims, c.maxPositionEmbeddings, T); // [r/2]
    let x = embedding(this.param('gpt_neox.embed_in.weight'), ids, [B, T]); // [B,T,d]
    for (let l = 0; l < c.numHiddenLayers; l++) {
      const p = `gpt_neox.layers.${l}`;
      x = this.layer(x, opts, (x) => {
        const attn = this.attention(p, this.norm(`${p}.input_layernorm`, x), invFreq, B, T, opts);
        // Parallel (HF): mlp_output + attn_output + hidden_states, ln2 reading the layer's input.
        if (c.useParallelResidual)
          return add(add(this.mlp(p, this.norm(`${p}.post_attention_layernorm`, x), opts), attn), x);
        const h = add(attn, x);
        return add(this.mlp(p, this.norm(`${p}.post_attention_layernorm`, h), opts), h);
      });
    }
    return this.norm('gpt_neox.final_layer_norm', x); // [B,T,d]
  }

  private norm(name: string, x: Tensor): Tensor {
    return layernorm(x, this.param(`${name}.weight`), this.param(`${name}.bias`), this.config.layerNormEps);
  }

  /**
   * x [B,T,H,hd] -> [B,T,H,hd] with RoPE on the first rotaryDims channels of each head (inverse
   * frequencies invFreq [rotaryDims/2], over rotaryDims as HF's), the rest as they are.
   */
  private rotary(x: Tensor, invFreq: Float32Array): Tensor {
    const { rotaryDims: r, headDim: hd } = this.config;
    if (r === hd) return rope(x, invFreq);
    if (r === 0) return x;
    return concat([rope(narrow(x, 3, 0, r), invFreq), narrow(x, 3, r, hd - r)], 3);
  }

  /** h [B,T,d] -> [B,T,d] */
  private attention(p: string, h: Tensor, invFreq: Float32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const { numAttentionHeads: H, headDim: hd, hiddenSize: d } = this.config;
    const qkv = reshape(this.project(`${p}.attention.query_key_value`, 'linear', h, opts), [B, T, H, 3 * hd]);
    const q = this.rotary(narrow(qkv, 3, 0, hd), invFreq); // [B,T,H,hd]
    const k = this.rotary(narrow(qkv, 3, hd, hd), invFreq);
    const v = narrow(qkv, 3, 2 * hd, hd);
    const y = reshape(causalAttention(q, k, v), [B, T, d]);
    return this.project(`${p}.attention.dense`, 'linear', y, opts);
  }

  /** h [B,T,d] -> [B,T,d] */
  private mlp(p: string, h: Tensor, opts: ForwardOptions): Tensor {
    const up = this.project(`${p}.mlp.dense_h_to_4h`, 'linear', h, opts); // [B,T,f]
    return this.project(
      `${p}.mlp.dense_4h_to_h`,
      'linear',
      this.config.gelu === 'exact' ? geluExact(up) : gelu(up),
      opts,
    );
  }
}
