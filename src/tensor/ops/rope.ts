// Rotary position embedding, Hugging Face Llama convention (rotate_half): channel i of a head is
// paired with channel i + hd/2, rotated by angle t * inv_freq[i], positions t = 0..T-1. The plain
// inv_freq[i] = theta^(-2i/hd) is inverseFrequencies; scaled variants are the model's (model/rope-scaling.ts).
// Frequencies and angles are formed in float32 as transformers does, so logits match it.
import { Tensor } from '../tensor.js';
import { record, gradOf } from '../autograd.js';

/**
 * inv_freq [dim/2] = 1 / theta^(2i/dim), as transformers' float32 tensors compute it:
 * 1.0 / (theta ** (arange(0, dim, 2).float() / dim)).
 */
export function inverseFrequencies(theta: number, dim: number): Float32Array {
  if (!(theta > 0)) throw new Error(`rope: theta must be positive, got ${theta}`);
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < out.length; i++) out[i] = 1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / dim)));
  return out;
}

/** cos and sin tables [T, hd/2]. */
function rotaryTables(T: number, invFreq: Float32Array): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let i = 0; i < half; i++) {
    for (let t = 0; t < T; t++) {
      const angle = Math.fround(t * invFreq[i]!);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Rotates pairs (u, v) = (x[i], x[i+half]) of every head at position t:
 * (u cos - v sin, v cos + u sin), or by the inverse rotation when `inverse` (the backward pass).
 * Writes (inverse = false) or accumulates (inverse = true) into out. x, out: [B, T, H, hd].
 */
function rotate(
  x: Float32Array,
  out: Float32Array,
  B: number,
  T: number,
  H: number,
  hd: number,
  cos: Float32Array,
  sin: Float32Array,
  inverse: boolean,
): void {
  const half = hd / 2;
  const sign = inverse ? -1 : 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tab = t * half;
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * hd;
        for (let i = 0; i < half; i++) {
          const c = cos[tab + i]!;
          const s = sign * sin[tab + i]!;
          const u = x[o + i]!;
          const v = x[o + i + half]!;
          if (inverse) {
            out[o + i]! += u * c - v * s;
            out[o + i + half]! += v * c + u * s;
          } else {
            out[o + i] = u * c - v * s;
            out[o + i + half] = v * c + u * s;
          }
        }
      }
    }
  }
}

/** rope(x [B, T, H, hd], invFreq [hd/2]) -> [B, T, H, hd]; backward applies the inverse rotation. */
export function rope(x: Tensor, invFreq: Float32Array): Tensor {
  if (x.rank !== 4) throw new Error(`rope: ${x.describe()} must be [B, T, heads, head_dim]`);
  const [B, T, H, hd] = x.shape as [number, number, number, number];
  if (hd % 2 !== 0) throw new Error(`rope: head_dim ${hd} of ${x.describe()} must be even`);
  if (invFreq.length !== hd / 2)
    throw new Error(`rope: ${invFreq.length} inverse frequencies for head_dim ${hd} (need ${hd / 2})`);
  const { cos, sin } = rotaryTables(T, invFreq);
  const out = new Float32Array(x.size);
  rotate(x.data, out, B, T, H, hd, cos, sin, false);
  return record(new Tensor(out, x.shape), [x], (g) => {
    rotate(g, gradOf(x)!, B, T, H, hd, cos, sin, true);
  });
}
