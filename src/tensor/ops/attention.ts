// Fused causal self-attention with grouped-query heads (Hugging Face repeat_kv semantics: query head
// h reads kv head floor(h / (H/Hkv))). Scores are scaled by 1/sqrt(hd). Sequences are right-padded,
// so the causal mask alone keeps real tokens from attending to padding.
//
// Layout trick: with q as [B, H, T, hd], the rep = H/Hkv query heads sharing kv head g are contiguous,
// an [rep*T, hd] matrix, so each (b, g) needs one sgemm for all its heads:
//   S_g [rep*T, T] = Q_g @ K_g^T,  P = causal softmax(S / sqrt(hd)),  O_g [rep*T, hd] = P_g @ V_g.
// Only P [B, H, T, T] is saved for backward; q, k, v are re-laid-out from the inputs when needed.
import { Tensor } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { kernels } from '../kernels/index.js';

/**
 * [B, T, H, hd] <-> [B, H, T, hd]: swaps axes 1 and 2 of src [B, D1, D2, hd] into dst [B, D2, D1, hd].
 * Writes, or accumulates when `accumulate`.
 */
function swapMiddleAxes(src: Float32Array, dst: Float32Array, B: number, D1: number, D2: number, hd: number,
  accumulate: boolean): void {
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < D1; i++) {
      for (let j = 0; j < D2; j++) {
        const s = ((b * D1 + i) * D2 + j) * hd;
        const d = ((b * D2 + j) * D1 + i) * hd;
        if (accumulate) for (let c = 0; c < hd; c++) dst[d + c] += src[s + c]!;
        else dst.set(src.subarray(s, s + hd), d);
      }
    }
  }
}

/** x [B, T, heads, hd] as [B, heads, T, hd]. */
function headsFirst(x: Tensor): Float32Array {
  const [B, T, H, hd] = x.shape as [number, number, number, number];
  const out = new Float32Array(x.size);
  swapMiddleAxes(x.data, out, B, T, H, hd, false);
  return out;
}

/** causalAttention(q [B,T,H,hd], k [B,T,Hkv,hd], v [B,T,Hkv,hd]) -> [B,T,H,hd]. */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(`causalAttention: q ${q.describe()}, k ${k.describe()}, v ${v.describe()} must all be [B, T, heads, head_dim]`);
  }
  const [B, T, H, hd] = q.shape as [number, number, number, number];
  const Hkv = k.shape[2]!;
  if (k.shape[0] !== B || k.shape[1] !== T || k.shape[3] !== hd || v.shape.some((d, i) => d !== k.shape[i])) {
    throw new Error(`causalAttention: k ${k.describe()} and v ${v.describe()} must both be [${B}, ${T}, kv_heads, ${hd}] to match q ${q.describe()}`);
  }
  if (H % Hkv !== 0) throw new Error(`causalAttention: ${H} query heads are not a multiple of ${Hkv} kv heads`);
  const rep = H / Hkv;
  const G = B * Hkv; // one sgemm per (batch, kv head)
  const scale = 1 / Math.sqrt(hd);
  const kern = kernels();

  const qh = headsFirst(q); // [B, H, T, hd]
  const kh = headsFirst(k); // [B, Hkv, T, hd]
  const vh = headsFirst(v);
  const p = new Float32Array(B * H * T * T); // scores, then probabilities [B, H, T, T]
  kern.sgemmBatched(false, true, G, rep * T, T, hd, 1, qh, rep * T * hd, kh, T * hd, 0, p, rep * T * T);
  kern.causalSoftmaxForward(p, B * H, T, scale);
  const oh = new Float32Array(q.size); // [B, H, T, hd]
  kern.sgemmBatched(false, false, G, rep * T, hd, T, 1, p, rep * T * T, vh, T * hd, 0, oh, rep * T * hd);
  const out = new Float32Array(q.size);
  swapMiddleAxes(oh, out, B, H, T, hd, false);

  return record(new Tensor(out, q.shape), [q, k, v], (g) => {
    const kb = kernels();
    const dOh = new Float32Array(q.size); // [B, H, T, hd]
    swapMiddleAxes(g, dOh, B, T, H, hd, false);
    const gv = gradOf(v);
    if (gv) {
      // dV_g [T, hd] = P_g^T [T, rep*T] @ dO_g [rep*T, hd]
      const dVh = new Float32Array(v.size);
      kb.sgemmBatched(true, false, G, T, hd, rep * T, 1, p, rep * T * T, dOh, rep * T * hd, 0, dVh, T * hd);
      swapMiddleAxes(dVh, gv, B, Hkv, T, hd, true);
    }
    const gq = gradOf(q);
    const gk = gradOf(k);
    if (!gq && !gk) return;
    // dP_g [rep*T, T] = dO_g @ V_g^T, then dS = softmax backward (in place, scale included)
    const ds = new Float32Array(p.length);
    kb.sgemmBatched(false, true, G, rep * T, T, hd, 1, dOh, rep * T * hd, headsFirst(v), T * hd, 0, ds, rep * T * T);
    kb.causalSoftmaxBackward(ds, p, B * H, T, scale, ds);
    if (gq) {
      // dQ_g [rep*T, hd] = dS_g @ K_g
      const dQh = new Float32Array(q.size);
      kb.sgemmBatched(false, false, G, rep * T, hd, T, 1, ds, rep * T * T, headsFirst(k), T * hd, 0, dQh, rep * T * hd);
      swapMiddleAxes(dQh, gq, B, H, T, hd, true);
    }
    if (gk) {
      // dK_g [T, hd] = dS_g^T [T, rep*T] @ Q_g [rep*T, hd]
      const dKh = new Float32Array(k.size);
      kb.sgemmBatched(true, false, G, T, hd, rep * T, 1, ds, rep * T * T, headsFirst(q), rep * T * hd, 0, dKh, T * hd);
      swapMiddleAxes(dKh, gk, B, Hkv, T, hd, true);
    }
  });
}
