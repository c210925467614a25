// Gemma and Gemma-2 (GemmaForCausalLM, Gemma2ForCausalLM semantics, eager attention). Both:
// embeddings scaled by sqrt(d) (HF casts the normaliser to the hidden dtype: float32 here), RMSNorm
// x / rms(x) * (1 + w) in float32, RoPE on every channel, grouped-query heads with head_dim from the
// config, MLP down(gelu_tanh(gate(x)) * up(x)), a final RMSNorm and lm_head tied to the embedding.
// Gemma:   x += attn(in_norm(x)); x += mlp(post_attn_norm(x))
// Gemma-2: x += post_attn_norm(attn(in_norm(x))); x += post_ff_norm(mlp(pre_ff_norm(x))); scores
//          q.k * query_pre_attn_scalar^-0.5, soft-capped c tanh(s / c) (attn_logit_softcapping) before
//          the mask, a sliding window on the layers gemma-config.ts names, and final logits soft-capped
//          by final_logit_softcapping.
// Shapes: B batch, T time, d hidden, H heads, Hkv kv heads, hd head dim, f MLP width, V vocab.
import {
  add,
  addScalar,
  causalAttention,
  embedding,
  gelu,
  geluExact,
  mul,
  reshape,
  rmsnorm,
  rope,
  scale,
  tanh,
  type AttentionOptions,
} from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { GemmaConfig } from './config.js';
import { checkSequenceLength } from './context-length.js';
import { ropeInverseFrequencies } from './rope-scaling.js';
import { LlamaLayoutLM, type ForwardOptions } from './model.js';

/** c tanh(x / c): Gemma-2's soft-capping. */
function softcap(x: Tensor, c: number): Tensor {
  return scale(tanh(scale(x, 1 / c)), c);
}

export class Gemma extends LlamaLayoutLM<GemmaConfig> {
  protected hiddenStates(ids: Int32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const c = this.config;
    checkSequenceLength(c, T);
    const invFreq = ropeInverseFrequencies(c.rope, c.headDim, c.maxPositionEmbeddings, T); // [hd/2]
    // HF: hidden * torch.tensor(hidden_size ** 0.5, dtype=hidden.dtype)
    let x = scale(
      embedding(this.param('model.embed_tokens.weight'), ids, [B, T]),
      Math.fround(Math.sqrt(c.hiddenSize)),
    );
    for (let l = 0; l < c.numHiddenLayers; l++) {
      const p = `model.layers.${l}`;
      x = this.layer(x, opts, (x) => {
        const attn = this.attention(l, this.norm(`${p}.input_layernorm`, x), invFreq, B, T, opts);
        if (c.arch === 'gemma2') {
          const h = add(x, this.norm(`${p}.post_attention_layernorm`, attn));
          return add(
            h,
            this.norm(
              `${p}.post_feedforward_layernorm`,
              this.mlp(p, this.norm(`${p}.pre_feedforward_layernorm`, h), opts),
            ),
          );
        }
        const h = add(x, attn);
        return add(h, this.mlp(p, this.norm(`${p}.post_attention_layernorm`, h), opts));
      });
    }
    return this.norm('model.norm', x); // [B,T,d]
  }

  override nonlinearHead(): string | undefined {
    const cap = this.config.finalLogitSoftcapping;
    return cap === null ? undefined : `its logits are soft-capped (final_logit_softcapping ${cap})`;
  }

  /** hidden [..., d] -> logits [..., V], soft-capped for Gemma-2 (final_logit_softcapping). */
  override lmHead(hidden: Tensor): Tensor {
    const logits = super.lmHead(hidden);
    const cap = this.config.finalLogitSoftcapping;
    return cap === null ? logits : softcap(logits, cap);
  }

  /** GemmaRMSNorm: x / sqrt(mean(x^2) + eps) * (1 + w), all in float32. */
  private norm(name: string, x: Tensor): Tensor {
    return rmsnorm(x, addScalar(this.param(`${name}.weight`), 1), this.config.rmsNormEps);
  }

  /** h [B,T,d] -> [B,T,d] */
  private attention(l: number, h: Tensor, invFreq: Float32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const c = this.config;
    const { numAttentionHeads: H, numKeyValueHeads: Hkv, headDim: hd } = c;
    const p = `model.layers.${l}.self_attn`;
    const q = rope(reshape(this.project(`${p}.q_proj`, 'linear', h, opts), [B, T, H, hd]), invFreq);
    const k = rope(reshape(this.project(`${p}.k_proj`, 'linear', h, opts), [B, T, Hkv, hd]), invFreq);
    const v = reshape(this.project(`${p}.v_proj`, 'linear', h, opts), [B, T, Hkv, hd]);
    const window = c.layerWindows[l];
    const options: AttentionOptions = {
      scale: c.queryPreAttnScalar ** -0.5,
      ...(c.attnLogitSoftcapping !== null ? { softcap: c.attnLogitSoftcapping } : {}),
      ...(window !== null && window !== undefined ? { window } : {}),
    };
    const y = reshape(causalAttention(q, k, v, options), [B, T, H * hd]); // [B,T,H*hd]
    return this.project(`${p}.o_proj`, 'linear', y, opts);
  }

  /** h [B,T,d] -> [B,T,d] */
  private mlp(p: string, h: Tensor, opts: ForwardOptions): Tensor {
    const gate = this.project(`${p}.mlp.gate_proj`, 'linear', h, opts); // [B,T,f]
    const up = this.project(`${p}.mlp.up_proj`, 'linear', h, opts);
    const act = this.config.gelu === 'exact' ? geluExact(gate) : gelu(gate);
    return this.project(`${p}.mlp.down_proj`, 'linear', mul(act, up), opts);
  }
}
