// The Llama family (LlamaForCausalLM semantics: Llama-2, Mistral, TinyLlama, SmolLM, Qwen2 without
// biases): token embedding, then per layer x += attn(rmsnorm(x)); x += mlp(rmsnorm(x)), a final RMSNorm
// and lm_head (tied to the embedding when tie_word_embeddings). Attention: RoPE (rotate_half, rope_theta)
// on q and k, grouped-query heads (num_key_value_heads), causal. MLP: down(silu(gate(x)) * up(x)).
// Shapes: B batch, T time, d hidden, H heads, Hkv kv heads, hd head dim, V vocab.
import { add, causalAttention, embedding, reshape, rmsnorm, rope, swiglu } from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LlamaConfig } from './config.js';
import { checkSequenceLength } from './context-length.js';
import { CausalLM, type ForwardOptions, type ProjectionInfo } from './model.js';

export class Llama extends CausalLM {
  readonly unembeddingName: string;

  constructor(
    readonly config: LlamaConfig,
    weights: Map<string, Tensor>,
  ) {
    super(weights);
    this.unembeddingName = config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  }

  projections(): ProjectionInfo[] {
    const { hiddenSize: d, intermediateSize: f, numAttentionHeads: H, numKeyValueHeads: Hkv } = this.config;
    const hd = this.config.headDim;
    const out: ProjectionInfo[] = [];
    for (let l = 0; l < this.config.numHiddenLayers; l++) {
      const p = `model.layers.${l}`;
      const shapes: [string, number, number][] = [
        ['self_attn.q_proj', d, H * hd],
        ['self_attn.k_proj', d, Hkv * hd],
        ['self_attn.v_proj', d, Hkv * hd],
        ['self_attn.o_proj', H * hd, d],
        ['mlp.gate_proj', d, f],
        ['mlp.up_proj', d, f],
        ['mlp.down_proj', f, d],
      ];
      for (const [name, inF, outF] of shapes) {
        out.push({
          path: `${p}.${name}`,
          peftPath: `${p}.${name}`,
          inFeatures: inF,
          outFeatures: outF,
          layout: 'linear',
        });
      }
    }
    return out;
  }

  protected hiddenStates(ids: Int32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const c = this.config;
    checkSequenceLength(c, T);
    let x = embedding(this.param('model.embed_tokens.weight'), ids, [B, T]); // [B,T,d]
    for (let l = 0; l < c.numHiddenLayers; l++) {
      const p = `model.layers.${l}`;
      x = this.layer(x, opts, (x) => {
        const h = add(
          x,
          this.attention(p, rmsnorm(x, this.param(`${p}.input_layernorm.weight`), c.rmsNormEps), B, T, opts),
        );
        return add(h, this.mlp(p, rmsnorm(h, this.param(`${p}.post_attention_layernorm.weight`), c.rmsNormEps), opts));
      });
    }
    return rmsnorm(x, this.param('model.norm.weight'), c.rmsNormEps); // [B,T,d]
  }

  /** h [B,T,d] -> [B,T,d] */
  private attention(p: string, h: Tensor, B: number, T: number, opts: ForwardOptions): Tensor {
    const { numAttentionHeads: H, numKeyValueHeads: Hkv, ropeTheta } = this.config;
    const hd = this.config.headDim;
    const q = rope(reshape(this.project(`${p}.self_attn.q_proj`, 'linear', h, opts), [B, T, H, hd]), ropeTheta);
    const k = rope(reshape(this.project(`${p}.self_attn.k_proj`, 'linear', h, opts), [B, T, Hkv, hd]), ropeTheta);
    const v = reshape(this.project(`${p}.self_attn.v_proj`, 'linear', h, opts), [B, T, Hkv, hd]);
    const y = reshape(causalAttention(q, k, v), [B, T, H * hd]); // [B,T,H*hd]
    return this.project(`${p}.self_attn.o_proj`, 'linear', y, opts);
  }

  /** h [B,T,d] -> [B,T,d] */
  private mlp(p: string, h: Tensor, opts: ForwardOptions): Tensor {
    const gate = this.project(`${p}.mlp.gate_proj`, 'linear', h, opts); // [B,T,f]
    const up = this.project(`${p}.mlp.up_proj`, 'linear', h, opts);
    return this.project(`${p}.mlp.down_proj`, 'linear', swiglu(gate, up), opts);
  }
}
