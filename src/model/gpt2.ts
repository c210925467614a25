// GPT-2 (GPT2LMHeadModel semantics): token + learned position embeddings, then per block
// x += attn(ln_1(x)); x += mlp(ln_2(x)), a final LayerNorm ln_f, and lm_head tied to wte (or its own
// lm_head.weight when tie_word_embeddings is false, as a last-layer run saves it).
// Projections are HF's Conv1D: weight stored [in, out], y = x @ W + b, used as stored (no transposed
// copy). Attention: c_attn gives q|k|v side by side, causal, scale 1/sqrt(hd). MLP: c_proj(gelu_new(c_fc(x))).
// Tensor names are GPT2Model's (no "transformer." prefix; the checkpoint reader removes it); PEFT names
// its adapters by the GPT2LMHeadModel path, with the prefix.
// Shapes: B batch, T time, d hidden, H heads, hd = d/H, V vocab.
import { add, embedding, gelu, layernorm, packedCausalAttention, reshape } from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Gpt2Config } from './config.js';
import { checkSequenceLength } from './context-length.js';
import { CausalLM, layerProjections, type ForwardOptions, type ProjectionInfo } from './model.js';

export class Gpt2 extends CausalLM {
  readonly unembeddingName: string;

  constructor(
    readonly config: Gpt2Config,
    weights: Map<string, Tensor>,
  ) {
    super(weights);
    this.unembeddingName = config.tieWordEmbeddings ? 'wte.weight' : 'lm_head.weight';
  }

  projections(): ProjectionInfo[] {
    const d = this.config.hiddenSize;
    const f = this.config.intermediateSize;
    const shapes: [string, number, number][] = [
      ['attn.c_attn', d, 3 * d],
      ['attn.c_proj', d, d],
      ['mlp.c_fc', d, f],
      ['mlp.c_proj', f, d],
    ];
    return layerProjections(this.config.numHiddenLayers, 'h.', shapes, 'conv1d', 'transformer.');
  }

  protected hiddenStates(ids: Int32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    const c = this.config;
    checkSequenceLength(c, T);
    const positions = new Int32Array(B * T);
    for (let i = 0; i < B * T; i++) positions[i] = i % T;
    let x = add(
      embedding(this.param('wte.weight'), ids, [B, T]),
      embedding(this.param('wpe.weight'), positions, [B, T]),
    ); // [B,T,d]
    for (let l = 0; l < c.numHiddenLayers; l++) {
      const p = `h.${l}`;
      x = this.layer(x, opts, (x) => {
        const h = add(x, this.attention(p, this.norm(`${p}.ln_1`, x), B, T, opts));
        return add(h, this.mlp(p, this.norm(`${p}.ln_2`, h), opts));
      });
    }
    return this.norm('ln_f', x); // [B,T,d]
  }

  private norm(name: string, x: Tensor): Tensor {
    return layernorm(x, this.param(`${name}.weight`), this.param(`${name}.bias`), this.config.layerNormEpsilon);
  }

  /** h [B,T,d] -> [B,T,d] */
  private attention(p: string, h: Tensor, B: number, T: number, opts: ForwardOptions): Tensor {
    const d = this.config.hiddenSize;
    const H = this.config.numAttentionHeads;
    const qkv = this.project(`${p}.attn.c_attn`, 'conv1d', h, opts); // [B,T,3d]
    const y = reshape(packedCausalAttention(qkv, H), [B, T, d]); // q|k|v read in place
    return this.project(`${p}.attn.c_proj`, 'conv1d', y, opts);
  }

  /** h [B,T,d] -> [B,T,d] */
  private mlp(p: string, h: Tensor, opts: ForwardOptions): Tensor {
    return this.project(`${p}.mlp.c_proj`, 'conv1d', gelu(this.project(`${p}.mlp.c_fc`, 'conv1d', h, opts)), opts);
  }
}
