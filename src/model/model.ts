// What every causal language model in prefdyn is: named parameters (Hugging Face names), a forward pass
// to the final hidden state (after the final norm: what lm_head multiplies, theory.md section 2), and
// the lm_head. Llama and GPT-2 differ only in their blocks; the projections, the optional LoRA adapter,
// and the "logits only where needed" logic live here once.
import { Tensor } from '../tensor/tensor.js';
import { checkpoint } from '../tensor/autograd.js';
import { add, gatherRows, linear, matmul, reshape } from '../tensor/ops/index.js';
import type { HalfStorage } from '../tensor/half.js';
import type { Rng } from '../util/rng.js';
import type { GemmaConfig, LlamaConfig, ModelConfig } from './config.js';

export interface ForwardOptions {
  /** Enables the dropout of a LoRA adapter (the base models have none, as TRL's disable_dropout). */
  training?: boolean;
  /** Draws the dropout masks; required when training with LoRA dropout > 0. */
  rng?: Rng;
  /**
   * Which logits to compute: 'all' [B,T,V] (default), 'none' (hidden states only: embeddings),
   * or flat positions b*T + t, giving [M,V] (single-token answers: the last prompt position only).
   */
  logits?: 'all' | 'none' | Int32Array;
  /**
   * Keep only each layer's input for the backward pass and recompute the layer's activations there
   * (Hugging Face's gradient_checkpointing): less memory for about one more forward pass.
   */
  gradientCheckpointing?: boolean;
}

export interface ForwardResult {
  /** [B,T,d], after the final norm. */
  hidden: Tensor;
  /** [B,T,V], or [M,V] for selected positions; absent for logits: 'none'. */
  logits?: Tensor;
}

/** A projection the model applies, where LoRA may attach: module path -> its shape and weight layout. */
export interface ProjectionInfo {
  /** Module path in params() names, e.g. "model.layers.0.self_attn.q_proj" or "h.0.attn.c_attn". */
  path: string;
  /** The module's path in the HF *ForCausalLM model, as PEFT names it (GPT-2: "transformer." + path). */
  peftPath: string;
  inFeatures: number;
  outFeatures: number;
  /** 'linear': weight [out,in] (nn.Linear); 'conv1d': weight [in,out] (GPT-2's Conv1D, PEFT fan_in_fan_out). */
  layout: 'linear' | 'conv1d';
}

/**
 * The projections of every layer: `${prefix}${l}.${name}` for each [name, in, out] of `shapes`, named by
 * PEFT with `peftPrefix` in front (GPT-2's "transformer.").
 */
export function layerProjections(
  layers: number,
  prefix: string,
  shapes: [name: string, inFeatures: number, outFeatures: number][],
  layout: ProjectionInfo['layout'],
  peftPrefix = '',
): ProjectionInfo[] {
  const out: ProjectionInfo[] = [];
  for (let l = 0; l < layers; l++) {
    for (const [name, inFeatures, outFeatures] of shapes) {
      const p = `${prefix}${l}.${name}`;
      out.push({ path: p, peftPath: peftPrefix + p, inFeatures, outFeatures, layout });
    }
  }
  return out;
}

/** Attention and gated-MLP projections of the Llama layout (Llama, Gemma): [name, in, out]. */
export function llamaLayoutShapes(c: {
  hiddenSize: number;
  intermediateSize: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
}): [string, number, number][] {
  const { hiddenSize: d, intermediateSize: f, numAttentionHeads: H, numKeyValueHeads: Hkv, headDim: hd } = c;
  return [
    ['self_attn.q_proj', d, H * hd],
    ['self_attn.k_proj', d, Hkv * hd],
    ['self_attn.v_proj', d, Hkv * hd],
    ['self_attn.o_proj', H * hd, d],
    ['mlp.gate_proj', d, f],
    ['mlp.up_proj', d, f],
    ['mlp.down_proj', f, d],
  ];
}

/** An additive low-rank update of some projections (LoRA): delta(path, x) is added to the projection's output. */
export interface ProjectionAdapter {
  delta(path: string, x: Tensor, opts: ForwardOptions): Tensor | undefined;
}

export abstract class CausalLM {
  abstract readonly config: ModelConfig;
  /** Name of the unembedding matrix [V,d] (lm_head.weight, or the embedding when tied). */
  abstract readonly unembeddingName: string;
  /** Set by LoRA's attach; undefined for the plain model. */
  adapter: ProjectionAdapter | undefined;

  protected constructor(protected readonly weights: Map<string, Tensor>) {}

  /** Every parameter by its HF name; a tied matrix appears once, under its embedding name. */
  params(): Map<string, Tensor> {
    return this.weights;
  }

  /** The projections (attention and MLP) where an adapter may attach. */
  abstract projections(): ProjectionInfo[];

  /** ids [B*T] (row-major [B,T], right-padded) -> hidden [B,T,d] after the final norm. */
  protected abstract hiddenStates(ids: Int32Array, B: number, T: number, opts: ForwardOptions): Tensor;

  forward(ids: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ForwardResult {
    if (ids.length !== B * T) throw new Error(`forward: ${ids.length} token ids do not fill [B=${B}, T=${T}]`);
    const vocab = this.param(this.unembeddingName).shape[0]!;
    for (const id of ids) {
      if (!(id >= 0 && id < vocab)) throw new Error(`forward: token id ${id} outside the vocabulary [0, ${vocab})`);
    }
    const hidden = this.hiddenStates(ids, B, T, opts);
    const which = opts.logits ?? 'all';
    if (which === 'none') return { hidden };
    if (which === 'all') return { hidden, logits: this.lmHead(hidden) };
    const d = hidden.shape[2]!;
    return { hidden, logits: this.lmHead(gatherRows(reshape(hidden, [B * T, d]), which)) };
  }

  /**
   * Why the logits are not hidden @ W_U^T (Gemma-2's final soft-capping), or undefined when they are:
   * last-layer training (the theory's linear setting) needs them linear.
   */
  nonlinearHead(): string | undefined {
    return undefined;
  }

  /** hidden [..., d] -> logits [..., V] = hidden @ W_U^T. */
  lmHead(hidden: Tensor): Tensor {
    return linear(hidden, this.param(this.unembeddingName));
  }

  protected param(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`model has no parameter "${name}"`);
    return t;
  }

  /** One transformer layer, x [B,T,d] -> [B,T,d], checkpointed when opts.gradientCheckpointing. */
  protected layer(x: Tensor, opts: ForwardOptions, fn: (x: Tensor) => Tensor): Tensor {
    return opts.gradientCheckpointing ? checkpoint(x, fn, opts.rng) : fn(x);
  }

  /** x [..., in] -> [..., out] through the projection at `path` (+ bias if the checkpoint has one, + adapter). */
  protected project(path: string, layout: 'linear' | 'conv1d', x: Tensor, opts: ForwardOptions): Tensor {
    const w = this.param(`${path}.weight`);
    const bias = this.weights.get(`${path}.bias`);
    const y = layout === 'linear' ? linear(x, w, bias) : matmul(x, w, bias);
    const delta = this.adapter?.delta(path, x, opts);
    return delta ? add(y, delta) : y;
  }
}

/** Wraps checkpoint arrays (F32, or 16-bit storage) as tensors named by their HF names (no gradients until a trainer asks). */
export function tensorsFromWeights(
  weights: Map<string, { shape: number[]; data: Float32Array | HalfStorage }>,
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, w] of weights) out.set(name, new Tensor(w.data, w.shape, { name }));
  return out;
}

/**
 * A model in the Llama tensor layout (model.embed_tokens, model.layers.N.self_attn.{q,k,v,o}_proj and
 * mlp.{gate,up,down}_proj, model.norm, lm_head unless tied): Llama and Gemma share its names and projections.
 */
export abstract class LlamaLayoutLM<C extends LlamaConfig | GemmaConfig> extends CausalLM {
  readonly unembeddingName: string;

  constructor(
    readonly config: C,
    weights: Map<string, Tensor>,
  ) {
    super(weights);
    this.unembeddingName = config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  }

  projections(): ProjectionInfo[] {
    return layerProjections(this.config.numHiddenLayers, 'model.layers.', llamaLayoutShapes(this.config), 'linear');
  }
}
