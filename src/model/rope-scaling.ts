// RoPE's settings in config.json and the inverse frequencies they give, as transformers computes them
// (modeling_rope_utils: _compute_default_rope_parameters, _compute_linear_scaling_rope_parameters,
// _compute_dynamic_ntk_parameters, _compute_llama3_parameters). Every step is rounded to float32 where
// transformers works on float32 tensors, so the angles match PyTorch's.
// Two spellings: transformers 4 has a top-level rope_theta (GPT-NeoX: rotary_emb_base, rotary_pct) and an
// optional rope_scaling object; transformers 5 has one rope_parameters object holding rope_theta,
// rope_type (and partial_rotary_factor). Every RoPE family (Llama, Mistral, Qwen2/3, GPT-NeoX, Gemma)
// reads its settings here, naming the scaling types it implements.
import { UserError } from '../util/errors.js';
import { inverseFrequencies } from '../tensor/ops/index.js';
import { Fields } from './config-fields.js';

export const ROPE_TYPES = ['default', 'linear', 'dynamic', 'llama3'] as const;

export type RopeScaling =
  | { type: 'default' }
  /** Positions divided by factor: inv_freq / factor. */
  | { type: 'linear'; factor: number }
  /** NTK-aware: theta grows with the sequence length once it passes max_position_embeddings. */
  | { type: 'dynamic'; factor: number }
  /** Llama 3.1: low frequencies / factor, high ones kept, a smooth blend between. */
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

export interface RopeConfig {
  theta: number;
  scaling: RopeScaling;
}

const f32 = Math.fround;

/** What a family reads: its top-level theta keys, its default theta, the scaling types it implements. */
export interface RopeSpec {
  /** rope_theta when no spelling gives it. */
  defaultTheta: number;
  /** transformers 4's top-level keys for theta, in the order transformers reads them (default: rope_theta). */
  thetaKeys?: readonly string[];
  /** The rope types the family implements (default: all of ROPE_TYPES); others are refused. */
  types?: readonly RopeType[];
}

export type RopeType = (typeof ROPE_TYPES)[number];

function parseScaling(
  file: string,
  obj: Record<string, unknown>,
  where: string,
  types: readonly RopeType[],
): RopeScaling {
  const p = new Fields(file, obj, `${where}.`);
  // transformers 4 wrote the type as "type" before "rope_type"; both are read, as transformers does.
  const type = p.oneOf(p.has('rope_type') || !p.has('type') ? 'rope_type' : 'type', types, 'default');
  if (type === 'default') return { type };
  if (type === 'linear' || type === 'dynamic') return { type, factor: p.positiveNumber('factor') };
  const lowFreqFactor = p.positiveNumber('low_freq_factor');
  const highFreqFactor = p.positiveNumber('high_freq_factor');
  if (!(highFreqFactor > lowFreqFactor)) {
    throw new UserError(
      `${file}: ${where}.high_freq_factor ${highFreqFactor} must exceed ${where}.low_freq_factor ${lowFreqFactor}`,
    );
  }
  return {
    type,
    factor: p.positiveNumber('factor'),
    lowFreqFactor,
    highFreqFactor,
    originalMaxPositionEmbeddings: p.positiveInt('original_max_position_embeddings'),
  };
}

/**
 * The one value config.json gives under all the spellings present (`keys` at the top level, in order,
 * then rope_parameters.`nestedKey`), each checked by `read`; undefined when none gives it.
 */
function agreedValue(
  file: string,
  json: Record<string, unknown>,
  keys: readonly string[],
  nestedKey: string,
  read: (fields: Fields, key: string) => number,
): number | undefined {
  const top = new Fields(file, json);
  const given: [string, number][] = keys.filter((k) => top.has(k)).map((k) => [k, read(top, k)]);
  const v5 = top.object('rope_parameters');
  if (v5) {
    const nested = new Fields(file, v5, 'rope_parameters.');
    if (nested.has(nestedKey)) given.push([`rope_parameters.${nestedKey}`, read(nested, nestedKey)]);
  }
  const [first, ...rest] = given;
  for (const [k, v] of rest) {
    if (v !== first![1]) throw new UserError(`${file}: ${first![0]} ${first![1]} and ${k} ${v} disagree`);
  }
  return first?.[1];
}

/**
 * RoPE settings from either spelling; a config that gives both must give the same values in each. Every
 * RoPE family reads its rope through here (`spec`: its keys, default and the scaling types it implements).
 */
export function parseRope(file: string, json: Record<string, unknown>, spec: RopeSpec): RopeConfig {
  const types = spec.types ?? ROPE_TYPES;
  const theta =
    agreedValue(file, json, spec.thetaKeys ?? ['rope_theta'], 'rope_theta', (f, k) => f.positiveNumber(k)) ??
    spec.defaultTheta;
  const f = new Fields(file, json);
  const v4 = f.object('rope_scaling');
  const v4Scaling: RopeScaling = v4 ? parseScaling(file, v4, 'rope_scaling', types) : { type: 'default' };
  const v5 = f.object('rope_parameters');
  if (!v5) return { theta, scaling: v4Scaling };
  const scaling = parseScaling(file, v5, 'rope_parameters', types);
  if (v4 && JSON.stringify(v4Scaling) !== JSON.stringify(scaling)) {
    throw new UserError(
      `${file}: rope_scaling (transformers 4) and rope_parameters (transformers 5) disagree: ` +
        `${JSON.stringify(v4Scaling)} against ${JSON.stringify(scaling)}`,
    );
  }
  return { theta, scaling };
}

/**
 * The fraction of each head's channels RoPE rotates (GPT-NeoX's rotary_pct), in (0, 1]: from `keys` at
 * the top level or rope_parameters.partial_rotary_factor, which must agree; `fallback` when none is given.
 */
export function parseRotaryFraction(
  file: string,
  json: Record<string, unknown>,
  keys: readonly string[],
  fallback: number,
): number {
  return agreedValue(file, json, keys, 'partial_rotary_factor', (f, k) => f.fraction(k)) ?? fallback;
}

/**
 * The longest sequence the model takes: max_position_embeddings, except that dynamic NTK scaling exists to
 * run past it; prefdyn lets it run to factor x max_position_embeddings.
 */
export function ropeContextLength(rope: RopeConfig, maxPositionEmbeddings: number): number {
  return rope.scaling.type === 'dynamic'
    ? Math.floor(rope.scaling.factor * maxPositionEmbeddings)
    : maxPositionEmbeddings;
}

/**
 * inv_freq [dim/2] for a batch of padded length T (only dynamic scaling depends on it).
 * `maxPositionEmbeddings` is config.json's (dynamic scaling's original length).
 */
export function ropeInverseFrequencies(
  rope: RopeConfig,
  dim: number,
  maxPositionEmbeddings: number,
  T: number,
): Float32Array {
  const s = rope.scaling;
  if (s.type === 'default') return inverseFrequencies(rope.theta, dim);
  if (s.type === 'linear') return inverseFrequencies(rope.theta, dim).map((w) => f32(w / s.factor));
  if (s.type === 'dynamic') {
    // transformers recomputes inv_freq when max(position_ids) + 1 = T passes max_position_embeddings, with
    // seq_len a tensor (so in float32): base = theta * (factor * T / max - (factor - 1))^(dim / (dim - 2)).
    // At T <= max_position_embeddings the frequencies are the default ones. (transformers keeps the
    // largest T seen so far; prefdyn computes each batch as a fresh model does.)
    if (T <= maxPositionEmbeddings) return inverseFrequencies(rope.theta, dim);
    const grown = f32(f32(f32(f32(s.factor * T) / maxPositionEmbeddings) - (s.factor - 1)));
    const base = f32(rope.theta * f32(Math.pow(grown, dim / (dim - 2))));
    return inverseFrequencies(base, dim);
  }
  // llama3: wavelen = 2 pi / inv_freq (as torch evaluates scalar / tensor: reciprocal, then times 2 pi);
  // wavelen < original / high_freq_factor: kept; wavelen > original / low_freq_factor: inv_freq / factor;
  // between: (1 - smooth) * inv_freq / factor + smooth * inv_freq, smooth = (original / wavelen - low) / (high - low).
  const lowFreqWavelen = f32(s.originalMaxPositionEmbeddings / s.lowFreqFactor);
  const highFreqWavelen = f32(s.originalMaxPositionEmbeddings / s.highFreqFactor);
  const twoPi = f32(2 * Math.PI);
  return inverseFrequencies(rope.theta, dim).map((w) => {
    const wavelen = f32(f32(1 / w) * twoPi);
    if (wavelen > lowFreqWavelen) return f32(w / s.factor);
    if (wavelen < highFreqWavelen) return w;
    const smooth = f32(
      f32(f32(f32(1 / wavelen) * s.originalMaxPositionEmbeddings) - s.lowFreqFactor) /
        (s.highFreqFactor - s.lowFreqFactor),
    );
    return f32(f32(f32(f32(1 - smooth) * w) / s.factor) + f32(smooth * w));
  });
}
