// Fused causal self-attention with grouped-query heads (Hugging Face repeat_kv semantics: query head
// h reads kv head floor(h / (H/Hkv))). Scores are scaled by 1/sqrt(hd) unless AttentionOptions say
// otherwise. Sequences are right-padded, so the causal mask alone keeps real tokens from attending to padding.
// Options (Gemma-2, Mistral): a score scale, soft-capping s -> c tanh(s / c) of the scaled scores before
// the mask (HF's eager attention), and a sliding window W: query t sees only keys t - W < s <= t (W keys,
// itself included), as transformers' sliding_window_overlay (masking_utils: kv_idx > q_idx - sliding_window);
// the masked scores are set to -inf before the softmax. (Older transformers' eager mask,
// AttentionMaskConverter with tril diagonal -sliding_window - 1, kept W + 1 keys; masking_utils, which
// every model now goes through, keeps W.)
//
// q, k and v are read where they lie, never re-laid-out: head h of sequence b is the [T, hd] matrix at
// offset + b*T*ld + h*hd with rows ld apart (ld = heads*hd for a [B,T,heads,hd] tensor, 3d for GPT-2's
// packed q|k|v), which BLAS takes as a leading dimension. Per sequence b and per query head r within
// its group of rep = H/Hkv, one batched sgemm covers all Hkv groups:
//   S [T, T] = Q_h @ K_g^T,  P = causal softmax(S / sqrt(hd)),  O_h [T, hd] = P @ V_g   (h = g*rep + r).
// Only P [B, H, T, T] is saved for backward; the gradients are accumulated straight into the inputs'
// gradient buffers through the same strides.
import { Tensor, uninitialisedFloats } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { kernels } from '../kernels/index.js';

/** Where the heads of one operand lie: element (b, t, head, c) is data[offset + (b*T + t)*ld + head*hd + c]. */
interface Heads {
  tensor: Tensor;
  offset: number;
  ld: number;
}

interface Dims {
  B: number;
  T: number;
  H: number;
  Hkv: number;
  hd: number;
}

export interface AttentionOptions {
  /** Multiplies q.k (default 1/sqrt(head_dim)). */
  scale?: number;
  /** Soft-capping c > 0: scaled scores s become c tanh(s / c) before the mask (Gemma-2's attn_logit_softcapping). */
  softcap?: number;
  /** Sliding window w >= 1: query t attends to keys s with t - w < s <= t. */
  window?: number;
}

function checkOptions(op: string, { scale, softcap, window }: AttentionOptions): void {
  if (scale !== undefined && !(Number.isFinite(scale) && scale > 0))
    throw new Error(`${op}: scale must be a positive number, got ${scale}`);
  if (softcap !== undefined && !(Number.isFinite(softcap) && softcap > 0))
    throw new Error(`${op}: softcap must be a positive number, got ${softcap}`);
  if (window !== undefined && !(Number.isSafeInteger(window) && window >= 1))
    throw new Error(`${op}: window must be a positive integer, got ${window}`);
}

/**
 * Scores p [BH, T, T] (unscaled q.k) in place -> c tanh(scale * p / c); returns tanh's values for the backward.
 * The causal softmax then runs with scale 1.
 */
function softcapScores(p: Float32Array, scale: number, c: number): Float32Array {
  const th = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const t = Math.tanh((scale * p[i]!) / c);
    th[i] = t;
    p[i] = c * t;
  }
  return th;
}

/** Scores p [BH, T, T] in place: keys s <= t - window of query t get -Infinity (softmax weight 0). */
function maskOutsideWindow(p: Float32Array, BH: number, T: number, window: number): void {
  for (let bh = 0; bh < BH; bh++) {
    for (let t = window; t < T; t++) p.fill(-Infinity, (bh * T + t) * T, (bh * T + t) * T + t - window + 1);
  }
}

/** Attention of query heads q over kv heads k, v -> [B, T, H, hd]; q, k, v may share one tensor. */
function attend(q: Heads, k: Heads, v: Heads, { B, T, H, Hkv, hd }: Dims, opts: AttentionOptions): Tensor {
  const rep = H / Hkv;
  const qkScale = opts.scale ?? 1 / Math.sqrt(hd);
  // With soft-capping the scores are scaled and capped here, so the softmax kernel takes them as they are.
  const scale = opts.softcap === undefined ? qkScale : 1;
  const TT = T * T;
  const ldo = H * hd; // the output [B, T, H, hd]
  const kern = kernels();
  // Per (b, r): operand X's first matrix (group 0) starts at x0(X, b, r); group g is strideX further on.
  const qAt = (b: number, r: number): number => q.offset + b * T * q.ld + r * hd;
  const kvAt = (x: Heads, b: number): number => x.offset + b * T * x.ld;
  const pAt = (b: number, r: number): number => (b * H + r) * TT;
  const oAt = (b: number, r: number): number => b * T * ldo + r * hd;

  const p = uninitialisedFloats(B * H * TT); // scores, then probabilities [B, H, T, T]
  const out = uninitialisedFloats(B * T * ldo);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < rep; r++) {
      kern.sgemmBatched(
        false,
        true,
        Hkv,
        T,
        T,
        hd,
        1,
        q.tensor.data.subarray(qAt(b, r)),
        q.ld,
        rep * hd,
        k.tensor.data.subarray(kvAt(k, b)),
        k.ld,
        hd,
        0,
        p.subarray(pAt(b, r)),
        T,
        rep * TT,
      );
    }
  }
  const capped = opts.softcap === undefined ? undefined : softcapScores(p, qkScale, opts.softcap);
  if (opts.window !== undefined && opts.window < T) maskOutsideWindow(p, B * H, T, opts.window);
  kern.causalSoftmaxForward(p, B * H, T, scale);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < rep; r++) {
      kern.sgemmBatched(
        false,
        false,
        Hkv,
        T,
        hd,
        T,
        1,
        p.subarray(pAt(b, r)),
        T,
        rep * TT,
        v.tensor.data.subarray(kvAt(v, b)),
        v.ld,
        hd,
        0,
        out.subarray(oAt(b, r)),
        ldo,
        rep * hd,
      );
    }
  }

  return record(new Tensor(out, [B, T, H, hd]), [q.tensor, k.tensor, v.tensor], (g) => {
    const kb = kernels();
    const gv = gradOf(v.tensor);
    if (gv) {
      // dV_g [T, hd] += sum_r P_h^T [T, T] @ dO_h [T, hd]
      for (let b = 0; b < B; b++) {
        for (let r = 0; r < rep; r++) {
          kb.sgemmBatched(
            true,
            false,
            Hkv,
            T,
            hd,
            T,
            1,
            p.subarray(pAt(b, r)),
            T,
            rep * TT,
            g.subarray(oAt(b, r)),
            ldo,
            rep * hd,
            1,
            gv.subarray(kvAt(v, b)),
            v.ld,
            hd,
          );
        }
      }
    }
    const gq = gradOf(q.tensor);
    const gk = gradOf(k.tensor);
    if (!gq && !gk) return;
    // dP_h [T, T] = dO_h @ V_g^T, then dS = softmax backward (in place, scale included)
    const ds = uninitialisedFloats(p.length);
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < rep; r++) {
        kb.sgemmBatched(
          false,
          true,
          Hkv,
          T,
          T,
          hd,
          1,
          g.subarray(oAt(b, r)),
          ldo,
          rep * hd,
          v.tensor.data.subarray(kvAt(v, b)),
          v.ld,
          hd,
          0,
          ds.subarray(pAt(b, r)),
          T,
          rep * TT,
        );
      }
    }
    kb.causalSoftmaxBackward(ds, p, B * H, T, scale, ds);
    // d(c tanh(a s / c))/ds = a (1 - tanh^2); masked keys have p = 0 and so ds = 0 already.
    if (capped) for (let i = 0; i < ds.length; i++) ds[i] = ds[i]! * qkScale * (1 - capped[i]! * capped[i]!);
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < rep; r++) {
        // dQ_h [T, hd] += dS_h @ K_g
        if (gq) {
          kb.sgemmBatched(
            false,
            false,
            Hkv,
            T,
            hd,
            T,
            1,
            ds.subarray(pAt(b, r)),
            T,
            rep * TT,
            k.tensor.data.subarray(kvAt(k, b)),
            k.ld,
            hd,
            1,
            gq.subarray(qAt(b, r)),
            q.ld,
            rep * hd,
          );
        }
        // dK_g [T, hd] += sum_r dS_h^T @ Q_h
        if (gk) {
          kb.sgemmBatched(
            true,
            false,
            Hkv,
            T,
            hd,
            T,
            1,
            ds.subarray(pAt(b, r)),
            T,
            rep * TT,
            q.tensor.data.subarray(qAt(b, r)),
            q.ld,
            rep * hd,
            1,
            gk.subarray(kvAt(k, b)),
            k.ld,
            hd,
          );
        }
      }
    }
  });
}

/**
 * causalAttention(q [B,T,H,hd], k [B,T,Hkv,hd], v [B,T,Hkv,hd], opts) -> [B,T,H,hd]; with opts.window,
 * each query attends to the `window` latest keys up to itself.
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(
      `causalAttention: q ${q.describe()}, k ${k.describe()}, v ${v.describe()} must all be [B, T, heads, head_dim]`,
    );
  }
  const [B, T, H, hd] = q.shape as [number, number, number, number];
  const Hkv = k.shape[2]!;
  if (k.shape[0] !== B || k.shape[1] !== T || k.shape[3] !== hd || v.shape.some((d, i) => d !== k.shape[i])) {
    throw new Error(
      `causalAttention: k ${k.describe()} and v ${v.describe()} must both be [${B}, ${T}, kv_heads, ${hd}] to match q ${q.describe()}`,
    );
  }
  if (H % Hkv !== 0) throw new Error(`causalAttention: ${H} query heads are not a multiple of ${Hkv} kv heads`);
  checkOptions('causalAttention', opts);
  return attend(
    { tensor: q, offset: 0, ld: H * hd },
    { tensor: k, offset: 0, ld: Hkv * hd },
    { tensor: v, offset: 0, ld: Hkv * hd },
    { B, T, H, Hkv, hd },
    opts,
  );
}

/**
 * packedCausalAttention(qkv [B, T, (H + 2*Hkv)*hd], H, Hkv = H) -> [B, T, H, hd]: attention of the
 * q | k | v laid side by side along the last axis (GPT-2's c_attn output), read in place.
 * Equals causalAttention of the three slices, without slicing them out.
 */
export function packedCausalAttention(qkv: Tensor, H: number, Hkv = H): Tensor {
  const width = qkv.shape[2];
  if (
    qkv.rank !== 3 ||
    width === undefined ||
    !(Number.isInteger(H) && Number.isInteger(Hkv) && H > 0 && Hkv > 0) ||
    width % (H + 2 * Hkv) !== 0
  ) {
    throw new Error(
      `packedCausalAttention: ${qkv.describe()} must be [B, T, (heads + 2*kv_heads) * head_dim] with ${H} heads and ${Hkv} kv heads`,
    );
  }
  if (H % Hkv !== 0) throw new Error(`packedCausalAttention: ${H} query heads are not a multiple of ${Hkv} kv heads`);
  const [B, T] = qkv.shape as [number, number];
  const hd = width / (H + 2 * Hkv);
  return attend(
    { tensor: qkv, offset: 0, ld: width },
    { tensor: qkv, offset: H * hd, ld: width },
    { tensor: qkv, offset: (H + Hkv) * hd, ld: width },
    { B, T, H, Hkv, hd },
    {},
  );
}
