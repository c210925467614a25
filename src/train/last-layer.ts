// Last-layer mode, the theory's setting (theory.md s.2): only the unembedding W [V, d] is trained, on
// hidden states precomputed once from the reference model. A response's log-prob is the sum over
// its tokens t of log softmax(W h_t)[y_t], where h_t is the final hidden state (after the final
// norm) at the position that predicts y_t. For single-token answers (persona " Yes"/" No") h is
// g(x), the state at the last prompt token, and chosen and rejected share it: those take the exact
// fast path of last-layer-rows.ts; this file's general path scores and differentiates all V logits.
import { kernels } from '../tensor/kernels/index.js';
import { deltaNorm, type TrainParam } from './gradients.js';
import { answerRowsPolicy, isSharedSingleToken, rowMean } from './last-layer-rows.js';
import type { Policy, ResponseLogps } from './policy.js';
import type { LastLayerOptions, ResponseFeatures } from './last-layer-types.js';

export type { LastLayerOptions, ResponseFeatures } from './last-layer-types.js';

/** Features for single-token responses: pair i scores token chosenIds[i] / rejectedIds[i] at row i of g. */
export function singleTokenFeatures(
  g: Float32Array,
  d: number,
  chosenIds: Int32Array,
  rejectedIds: Int32Array,
): ResponseFeatures {
  const n = chosenIds.length;
  const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  return {
    d,
    hidden: g,
    chosen: { offsets, rows, targets: chosenIds },
    rejected: { offsets, rows: rows.slice(), targets: rejectedIds },
  };
}

interface SavedForward {
  /** [P, d] gathered hidden states, [P, V] logits, [P] lse, [P] targets. */
  h: Float32Array;
  logits: Float32Array;
  lse: Float32Array;
  targets: Int32Array;
  /** Position ranges of each response: chosen of pair b = [spans[2b], spans[2b+1]), rejected next. */
  spans: Int32Array;
}

/** The last-layer policy: the exact single-token fast path when every pair allows it, else the general path. */
export function lastLayerPolicy(o: LastLayerOptions): Policy {
  const V = o.vocabSize;
  const { d } = o.features;
  if (o.w0.length !== V * d)
    throw new Error(`last-layer: unembedding has ${o.w0.length} values, expected V*d = ${V}*${d}`);
  return isSharedSingleToken(o.features) ? answerRowsPolicy(o) : tokenPositionsPolicy(o);
}

/** The general path: every response token's logits [P, V], forward and backward. */
function tokenPositionsPolicy(o: LastLayerOptions): Policy {
  const V = o.vocabSize;
  const { d } = o.features;
  const w0 = o.w0.slice();
  const w: TrainParam = { name: 'lm_head.weight', data: (o.w ?? o.w0).slice(), grad: new Float32Array(V * d) };
  let saved: SavedForward | undefined;

  // Gathers the positions of pairs `indices`: chosen then rejected of each pair, in order.
  function gather(indices: number[]): { h: Float32Array; targets: Int32Array; spans: Int32Array } {
    const spans = new Int32Array(2 * indices.length + 1);
    let P = 0;
    indices.forEach((i, b) => {
      spans[2 * b] = P;
      P += o.features.chosen.offsets[i + 1]! - o.features.chosen.offsets[i]!;
      spans[2 * b + 1] = P;
      P += o.features.rejected.offsets[i + 1]! - o.features.rejected.offsets[i]!;
    });
    spans[2 * indices.length] = P;
    const h = new Float32Array(P * d);
    const targets = new Int32Array(P);
    let p = 0;
    for (const i of indices) {
      for (const side of [o.features.chosen, o.features.rejected]) {
        for (let e = side.offsets[i]!; e < side.offsets[i + 1]!; e++, p++) {
          const r = side.rows[e]!;
          h.set(o.features.hidden.subarray(r * d, (r + 1) * d), p * d);
          targets[p] = side.targets[e]!;
        }
      }
    }
    return { h, targets, spans };
  }

  return {
    params: [w],
    description: o.description,
    logps(indices, training): ResponseLogps {
      const { h, targets, spans } = gather(indices);
      const P = targets.length;
      const k = kernels();
      const logits = new Float32Array(P * V);
      k.sgemm(false, true, P, V, d, 1, h, w.data, 0, logits); // logits [P,V] = h [P,d] W^T
      const logp = new Float32Array(P);
      const lse = new Float32Array(P);
      k.logSoftmaxGather(logits, targets, P, V, logp, lse);
      const n = indices.length;
      const out: ResponseLogps = {
        chosen: new Float64Array(n),
        rejected: new Float64Array(n),
        logitSums: { chosen: new Float64Array(n), rejected: new Float64Array(n) },
        tokens: { chosen: new Int32Array(n), rejected: new Int32Array(n) },
      };
      for (let b = 0; b < n; b++) {
        for (const [side, from] of [
          ['chosen', 2 * b],
          ['rejected', 2 * b + 1],
        ] as const) {
          for (let p = spans[from]!; p < spans[from + 1]!; p++) {
            out[side][b]! += logp[p]!;
            out.logitSums[side][b]! += rowMean(logits, p, V);
          }
          out.tokens[side][b] = spans[from + 1]! - spans[from]!;
        }
      }
      saved = training ? { h, logits, lse, targets, spans } : undefined;
      return out;
    },
    backward(dChosen, dRejected) {
      if (!saved) throw new Error('last-layer: backward without a training forward');
      const { h, logits, lse, targets, spans } = saved;
      const P = targets.length;
      const dlogp = new Float32Array(P);
      for (let b = 0; b < dChosen.length; b++) {
        for (let p = spans[2 * b]!; p < spans[2 * b + 1]!; p++) dlogp[p] = dChosen[b]!;
        for (let p = spans[2 * b + 1]!; p < spans[2 * b + 2]!; p++) dlogp[p] = dRejected[b]!;
      }
      const k = kernels();
      const dlogits = new Float32Array(P * V);
      k.logSoftmaxGatherBackward(dlogp, logits, targets, lse, P, V, dlogits);
      k.sgemm(true, false, V, d, P, 1, dlogits, h, 1, w.grad); // dW [V,d] += dlogits^T [V,P] h [P,d]
      saved = undefined;
    },
    weightNorms: () => ({ 'weights/unembed_delta_norm': deltaNorm(w.data, w0) }),
    save: (dir) => o.save(dir, w.data),
  };
}
