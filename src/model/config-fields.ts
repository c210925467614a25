// What every family's config shares: the normalised fields, the reader of config.json's fields (or of an
// object nested in it, such as rope_scaling; each error names the file and the field), the
// expected-tensor record and the GELU table. The families' parsers (config.ts, gpt-neox-config.ts,
// gemma-config.ts) and RoPE's (rope-scaling.ts) build on it.
import { UserError } from '../util/errors.js';

export interface CommonConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** hiddenSize / numAttentionHeads unless config.json gives head_dim (llama family, gemma). */
  headDim: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  raw: Record<string, unknown>;
}

/** Reads field values from config.json, naming the file and field in every error. */
export class Fields {
  /** `prefix` names a nested object in messages ("rope_scaling." gives "rope_scaling.factor"). */
  constructor(
    private readonly file: string,
    private readonly json: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  private fail(key: string, want: string): never {
    const value = this.json[key];
    const name = this.prefix + key;
    throw new UserError(
      value === undefined
        ? `${this.file}: missing field "${name}" (${want})`
        : `${this.file}: field "${name}" must be ${want}, got ${JSON.stringify(value)}`,
    );
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) this.fail(key, 'a positive integer');
    return v;
  }

  /** A positive integer, or null when the field is null (absent gives `fallback`). */
  positiveIntOrNull(key: string, fallback: number | null): number | null {
    const v = this.json[key];
    if (v === null || (v === undefined && fallback === null)) return null;
    return this.positiveInt(key, fallback ?? undefined);
  }

  positiveNumber(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, 'a positive number');
    return v;
  }

  /** A number in (0, 1] (GPT-NeoX's rotary_pct). */
  fraction(key: string): number {
    const v = this.json[key];
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) this.fail(key, 'a number in (0, 1]');
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    return v as T;
  }

  /** A positive number, or null for "off" (Gemma-2's soft-capping); absent gives `fallback`. */
  positiveOrNull(key: string, fallback: number | null): number | null {
    const v = this.json[key];
    if (v === null) return null;
    return v === undefined ? fallback : this.positiveNumber(key);
  }

  /** A nested object (null or absent: undefined). */
  object(key: string): Record<string, unknown> | undefined {
    const v = this.json[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'an object');
    return v as Record<string, unknown>;
  }

  /** Features prefdyn does not implement must be off (absent, null or false). */
  unsupported(key: string, what: string): void {
    const v = this.json[key];
    if (v !== undefined && v !== null && v !== false) {
      throw new UserError(
        `${this.file}: ${this.prefix}${key} = ${JSON.stringify(v)} is not supported (${what}); prefdyn needs it false or absent`,
      );
    }
  }
}

/** hidden / heads, which must divide. */
export function headDimOf(file: string, hidden: number, heads: number): number {
  if (hidden % heads !== 0) {
    throw new UserError(`${file}: hidden size ${hidden} is not divisible by the ${heads} attention heads`);
  }
  return hidden / heads;
}

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

export const ATTENTION_PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;
export type AttentionProjection = (typeof ATTENTION_PROJECTIONS)[number];

/** The sizes of a model in the Llama tensor layout (Llama family, Gemma). */
export type LlamaLayoutSizes = CommonConfig & { numKeyValueHeads: number };

/** The Llama layout's size fields as config.json names them. */
export function llamaLayoutJson(cfg: LlamaLayoutSizes): Record<string, unknown> {
  return {
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    num_key_value_heads: cfg.numKeyValueHeads,
    head_dim: cfg.headDim,
  };
}

/**
 * The tensors of the Llama layout (nn.Linear weights [out, in]; a bias has shape [out]): the embedding,
 * per layer input_layernorm, q/k/v/o_proj (biases on `attentionBiases`), q_norm/k_norm per head when
 * `qkNorm`, post_attention_layernorm, `layerNorms` (more [d] norms, Gemma-2's), gate/up/down_proj (biases
 * when `mlpBias`); model.norm and lm_head unless tied.
 */
export function llamaLayoutTensors(
  cfg: LlamaLayoutSizes,
  opts: {
    attentionBiases: readonly AttentionProjection[];
    mlpBias: boolean;
    qkNorm: boolean;
    layerNorms?: readonly string[];
  },
): ExpectedTensor[] {
  const { hiddenSize: d, vocabSize: V, intermediateSize: ff, headDim: hd } = cfg;
  const q = cfg.numAttentionHeads * hd;
  const kv = cfg.numKeyValueHeads * hd;
  // [module, out, in] of every projection
  const attention: [AttentionProjection, number, number][] = [
    ['q_proj', q, d],
    ['k_proj', kv, d],
    ['v_proj', kv, d],
    ['o_proj', d, q],
  ];
  const mlp: [string, number, number][] = [
    ['gate_proj', ff, d],
    ['up_proj', ff, d],
    ['down_proj', d, ff],
  ];
  const out: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [V, d] }];
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `model.layers.${i}.`;
    out.push({ name: `${p}input_layernorm.weight`, shape: [d] });
    for (const [m, o, n] of attention) {
      out.push({ name: `${p}self_attn.${m}.weight`, shape: [o, n] });
      if (opts.attentionBiases.includes(m)) out.push({ name: `${p}self_attn.${m}.bias`, shape: [o] });
    }
    if (opts.qkNorm) {
      out.push(
        { name: `${p}self_attn.q_norm.weight`, shape: [hd] },
        { name: `${p}self_attn.k_norm.weight`, shape: [hd] },
      );
    }
    out.push({ name: `${p}post_attention_layernorm.weight`, shape: [d] });
    for (const norm of opts.layerNorms ?? []) out.push({ name: `${p}${norm}.weight`, shape: [d] });
    for (const [m, o, n] of mlp) {
      out.push({ name: `${p}mlp.${m}.weight`, shape: [o, n] });
      if (opts.mlpBias) out.push({ name: `${p}mlp.${m}.bias`, shape: [o] });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [d] });
  if (!cfg.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, d] });
  return out;
}

/** GELU variants by their transformers ACT2FN names: exact (erf) or the tanh approximation. */
export const GELU_ACTIVATIONS = { gelu: 'exact', gelu_new: 'tanh', gelu_pytorch_tanh: 'tanh' } as const;
export type GeluKind = (typeof GELU_ACTIVATIONS)[keyof typeof GELU_ACTIVATIONS];
export const GELU_NAMES = Object.keys(GELU_ACTIVATIONS) as (keyof typeof GELU_ACTIVATIONS)[];
