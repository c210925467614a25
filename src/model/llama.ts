// The Llama family (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM semantics):
// token embedding, then per layer x += attn(rmsnorm(x)); x += mlp(rmsnorm(x)), a final RMSNorm and
// lm_head (tied to the embedding when tie_word_embeddings). Attention: RoPE (rotate_half; rope_theta and
// rope scaling, model/rope-scaling.ts) on q and k, grouped-query heads (num_key_value_heads), causal.
// MLP: down(silu(gate(x)) * up(x)). What the families add, as config options:
//   biases on projections (attention_bias, mlp_bias; Qwen2's q/k/v): added by project() when present;
//   Qwen3's q_norm/k_norm: RMSNorm over head_dim of each head, after the projection, before RoPE;
//   Mistral's sliding_window: query t attends to keys t - W < s <= t (causalAttention's window).
// Shapes: B batch, T time, d hidden, H heads, Hkv kv heads, hd head dim, V vocab.
import { add, causalAttention, embedding, reshape, rmsnorm, rope, swiglu } from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LlamaConfig } from './config.js';
import { checkSequenceLength } from './context-length.js';
import { ropeInverseFrequencies } from './rope-scaling.js';
import { LlamaLayoutLM, type ForwardOptions } from './model.js';

export class Llama extends LlamaLayoutLM<LlamaConfig> {
  protected hiddenStates(ids: Int32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const c = this.config;
    checkSequenceLength(c, T);
    const invFreq = ropeInverseFrequencies(c.rope, c.headDim, c.maxPositionEmbeddings, T); // [hd/2]
    let x = embedding(this.param('model.embed_tokens.weight'), ids, [B, T]); // [B,T,d]
    for (let l = 0; l < c.numHiddenLayers; l++) {
      const p = `model.layers.${l}`;
      x = this.layer(x, opts, (x) => {
        const h = add(
          x,
          this.attention(p, rmsnorm(x, this.param(`${p}.input_layernorm.weight`), c.rmsNormEps), invFreq, B, T, opts),
        );
        return add(h, this.mlp(p, rmsnorm(h, this.param(`${p}.post_attention_layernorm.weight`), c.rmsNormEps), opts));
      });
    }
    return rmsnorm(x, this.param('model.norm.weight'), c.rmsNormEps); // [B,T,d]
  }

  /** h [B,T,d] -> [B,T,d] */
  private attention(p: string, h: Tensor, invFreq: Float32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const { numAttentionHeads: H, numKeyValueHeads: Hkv, headDim: hd, qkNorm, rmsNormEps } = this.config;
    const heads = (name: 'q' | 'k', n: number): Tensor => {
      const x = reshape(this.project(`${p}.self_attn.${name}_proj`, 'linear', h, opts), [B, T, n, hd]); // [B,T,n,hd]
      return rope(qkNorm ? rmsnorm(x, this.param(`${p}.self_attn.${name}_norm.weight`), rmsNormEps) : x, invFreq);
    };
    const q = heads('q', H);
    const k = heads('k', Hkv);
    const v = reshape(this.project(`${p}.self_attn.v_proj`, 'linear', h, opts), [B, T, Hkv, hd]);
    const window = this.config.slidingWindow;
    const y = reshape(causalAttention(q, k, v, window === null ? {} : { window }), [B, T, H * hd]); // [B,T,H*hd]
    return this.project(`${p}.self_attn.o_proj`, 'linear', y, opts);
  }

  /** h [B,T,d] -> [B,T,d] */
  private mlp(p: string, h: Tensor, opts: ForwardOptions): Tensor {
    const gate = this.project(`${p}.mlp.gate_proj`, 'linear', h, opts); // [B,T,f]
    const up = this.project(`${p}.mlp.up_proj`, 'linear', h, opts);
    return this.project(`${p}.mlp.down_proj`, 'linear', swiglu(gate, up), opts);
  }
}
