// What every family's config shares: the normalised fields, the reader of config.json's fields (each
// error names the file and the field), and the expected-tensor record. The families' parsers
// (config.ts, gpt-neox-config.ts, gemma-config.ts) build on it.
import { UserError } from '../util/errors.js';

export interface CommonConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** hiddenSize / numAttentionHeads unless config.json gives head_dim (llama). */
  headDim: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  raw: Record<string, unknown>;
}

/** Reads field values from config.json, naming the file and field in every error. */
export class Fields {
  constructor(
    private readonly file: string,
    private readonly json: Record<string, unknown>,
  ) {}

  private fail(key: string, want: string): never {
    const value = this.json[key];
    throw new UserError(
      value === undefined
        ? `${this.file}: missing field "${key}" (${want})`
        : `${this.file}: field "${key}" must be ${want}, got ${JSON.stringify(value)}`,
    );
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) this.fail(key, 'a positive integer');
    return v;
  }

  positiveNumber(key: string, fallback: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, 'a positive number');
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
    return v === undefined ? fallback : this.positiveNumber(key, 0);
  }

  /** Features prefdyn does not implement must be off (absent, null or false). */
  unsupported(key: string, what: string): void {
    const v = this.json[key];
    if (v !== undefined && v !== null && v !== false) {
      throw new UserError(
        `${this.file}: ${key} = ${JSON.stringify(v)} is not supported (${what}); prefdyn needs it false or absent`,
      );
    }
  }
}

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

export interface DefaultRope {
  theta: number;
  /** Fraction of each head's channels that are rotated (GPT-NeoX's rotary_pct), in (0, 1]. */
  partial: number;
}

/**
 * Unscaled RoPE settings in either spelling: transformers 5's rope_parameters {rope_type "default",
 * rope_theta, partial_rotary_factor} or transformers 4's top-level keys (`legacy`, in the order HF reads
 * them). A value given under two spellings must agree; rope_scaling and other rope types are refused.
 */
export function readDefaultRope(
  file: string,
  json: Record<string, unknown>,
  legacy: { theta: string[]; partial: string[] },
  fallback: DefaultRope,
): DefaultRope {
  new Fields(file, json).unsupported('rope_scaling', 'scaled RoPE');
  const params = json.rope_parameters ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw new UserError(`${file}: field "rope_parameters" must be an object, got ${JSON.stringify(params)}`);
  const nested = params as Record<string, unknown>;
  const type = nested.rope_type ?? nested.type ?? 'default';
  if (type !== 'default') {
    throw new UserError(
      `${file}: rope_parameters.rope_type ${JSON.stringify(type)} is not supported for this model (only "default": unscaled RoPE)`,
    );
  }
  const pick = (nestedKey: string, keys: string[], fb: number, ok: (v: number) => boolean, want: string): number => {
    const given: [string, unknown][] = [
      ...(nested[nestedKey] !== undefined
        ? [[`rope_parameters.${nestedKey}`, nested[nestedKey]] as [string, unknown]]
        : []),
      ...keys.filter((k) => json[k] !== undefined && json[k] !== null).map((k) => [k, json[k]] as [string, unknown]),
    ];
    for (const [k, v] of given) {
      if (typeof v !== 'number' || !ok(v))
        throw new UserError(`${file}: field "${k}" must be ${want}, got ${JSON.stringify(v)}`);
    }
    const [first, ...rest] = given;
    for (const [k, v] of rest) {
      if (v !== first![1])
        throw new UserError(
          `${file}: ${first![0]} = ${JSON.stringify(first![1])} and ${k} = ${JSON.stringify(v)} disagree`,
        );
    }
    return first === undefined ? fb : (first[1] as number);
  };
  return {
    theta: pick('rope_theta', legacy.theta, fallback.theta, (v) => Number.isFinite(v) && v > 0, 'a positive number'),
    partial: pick(
      'partial_rotary_factor',
      legacy.partial,
      fallback.partial,
      (v) => v > 0 && v <= 1,
      'a number in (0, 1]',
    ),
  };
}

/** GELU variants by their transformers ACT2FN names: exact (erf) or the tanh approximation. */
export const GELU_ACTIVATIONS = { gelu: 'exact', gelu_new: 'tanh', gelu_pytorch_tanh: 'tanh' } as const;
export type GeluKind = (typeof GELU_ACTIVATIONS)[keyof typeof GELU_ACTIVATIONS];
export const GELU_NAMES = Object.keys(GELU_ACTIVATIONS) as (keyof typeof GELU_ACTIVATIONS)[];
