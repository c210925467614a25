// Last-layer mode's exact fast path for single-token answers (persona " Yes"/" No"; theory.md s.2).
// Chosen and rejected of pair i share g = g(x_i), so with z_v = w_v . g and lse = log sum_v exp(z_v):
//   log pi(y|x) = z_y - lse, and the margin (z_w - z_l) needs no normaliser;
//   for a loss of the margin only (dRejected = -dChosen, every objective here) the softmax terms of
//   the gradient cancel: dL/dw_y = sum_i dlogp_i(y) g_i, non-zero only in the answer tokens' rows.
// So an update never forms the [B, V] logit gradient nor the [V, d] product. lse is still needed for
// the logged log-probs and the policy accuracy.
//
// Which rows an update moves depends on the optimizer: rows without gradient keep SGD's momentum and
// AdamW's moments at 0, so they move only through weight decay.
//  - weight decay 0 (the theory's setting): only the answer rows A (every chosen or rejected token of
//    the data) ever change. The trained parameter is those rows alone, [|A|, d] in increasing token id
//    (the optimizer state "lm_head.weight/..." holds the same rows), and
//    lse(x) = log(exp(lse_rest(x)) + sum_{a in A} exp(z_a)) with lse_rest over the other rows computed
//    once: a step costs O(B |A| d).
//  - weight decay > 0: every row decays, so the parameter is all of W [V, d] (the optimizer's own dense
//    update, exactly as the general path) and lse comes from the batch's logits [B, V] each step.
import { kernels } from '../tensor/kernels/index.js';
import { deltaNorm, type TrainParam } from './gradients.js';
import type { LastLayerOptions, ResponseFeatures } from './last-layer-types.js';
import type { Policy, ResponseLogps } from './policy.js';

/** Rows of the logits computed at once when lse_rest is precomputed: [ROW_CHUNK, V] floats. */
const ROW_CHUNK = 256;

/** True when every response is one token, scored at a hidden row that the pair's chosen and rejected share. */
export function isSharedSingleToken(f: ResponseFeatures): boolean {
  const { chosen: c, rejected: r } = f;
  for (let i = 0; i + 1 < c.offsets.length; i++) {
    if (c.offsets[i + 1]! - c.offsets[i]! !== 1 || r.offsets[i + 1]! - r.offsets[i]! !== 1) return false;
    if (c.rows[c.offsets[i]!] !== r.rows[r.offsets[i]!]) return false;
  }
  return true;
}

/** Distinct answer tokens of the data, increasing. */
function answerTokens(f: ResponseFeatures, V: number): Int32Array {
  const tokens = Int32Array.from(new Set([...f.chosen.targets, ...f.rejected.targets])).sort();
  const bad = tokens.find((t) => t < 0 || t >= V);
  if (bad !== undefined) throw new Error(`last-layer: answer token id ${bad} is outside the vocabulary [0, ${V})`);
  return tokens;
}

/** Rows `tokens` of w [V, d], stacked: [tokens.length, d]. */
function rowsOf(w: Float32Array, tokens: Int32Array, d: number): Float32Array {
  const out = new Float32Array(tokens.length * d);
  tokens.forEach((t, k) => out.set(w.subarray(t * d, (t + 1) * d), k * d));
  return out;
}

/**
 * lse_rest[r] = log sum_{v not in A} exp(w_v . h_r) for every hidden row r, h [R, d], w [V, d]. The
 * answer columns are overwritten with the other columns' minimum logit m before the kernel's lse, whose K
 * copies of exp(m) are then taken out: lse_rest = lse + log1p(-K exp(m - lse)). Their share is at
 * most K/V (m is the smallest logit), so the subtraction loses no precision.
 */
function restLse(h: Float32Array, d: number, w: Float32Array, V: number, answers: Int32Array): Float64Array {
  const R = h.length / d;
  const K = answers.length;
  const out = new Float64Array(R).fill(-Infinity);
  if (K === V) return out;
  const isAnswer = new Uint8Array(V);
  for (const a of answers) isAnswer[a] = 1;
  const k = kernels();
  const logits = new Float32Array(Math.min(R, ROW_CHUNK) * V);
  for (let start = 0; start < R; start += ROW_CHUNK) {
    const n = Math.min(ROW_CHUNK, R - start);
    k.sgemm(false, true, n, V, d, 1, h.subarray(start * d, (start + n) * d), w, 0, logits); // [n,V] = h W^T
    const mins = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      // m over the other rows only: the result must not depend on the answer rows (a resumed run's differ).
      const z = logits.subarray(r * V, (r + 1) * V);
      let m = Infinity;
      for (let v = 0; v < V; v++) if (isAnswer[v] === 0 && z[v]! < m) m = z[v]!;
      for (const a of answers) z[a] = m;
      mins[r] = m;
    }
    const lse = new Float32Array(n);
    k.logSoftmaxGather(logits, new Int32Array(n), n, V, new Float32Array(n), lse);
    for (let r = 0; r < n; r++) out[start + r] = lse[r]! + Math.log1p(-K * Math.exp(mins[r]! - lse[r]!));
  }
  return out;
}

/** The single-token policy (requires isSharedSingleToken(o.features)). */
export function answerRowsPolicy(o: LastLayerOptions): Policy {
  const V = o.vocabSize;
  const { d, hidden, chosen, rejected } = o.features;
  const answers = answerTokens(o.features, V);
  const K = answers.length;
  const w0 = o.w0.slice();
  const w = (o.w ?? o.w0).slice();
  const sparse = o.weightDecay === 0;
  // The trained values: the answer rows (sparse) or all of W; slot[t] = row of token t in param.data.
  const param: TrainParam = sparse
    ? { name: 'lm_head.weight', data: rowsOf(w, answers, d), grad: new Float32Array(K * d) }
    : { name: 'lm_head.weight', data: w, grad: new Float32Array(V * d) };
  const slot = new Int32Array(V).fill(-1);
  answers.forEach((t, k) => (slot[t] = sparse ? k : t));
  const w0Rows = sparse ? rowsOf(w0, answers, d) : w0;
  // Sparse: the other rows never change, so their share of ||W - W0||_F^2 (0 unless resuming a run that
  // decayed them) is summed once.
  let restDelta2 = 0;
  if (sparse) {
    for (let v = 0; v < V; v++)
      if (slot[v] === -1) restDelta2 += deltaNorm(w.subarray(v * d, (v + 1) * d), w0.subarray(v * d, (v + 1) * d)) ** 2;
  }
  const lseRest = sparse ? restLse(hidden, d, w, V, answers) : undefined;
  // Sparse: the vocabulary-mean logit is (restSum + sum_a w_a) . g / V, restSum [d] = sum of the fixed rows.
  const restSum = new Float64Array(d);
  if (sparse) for (let v = 0; v < V; v++) if (slot[v] === -1) for (let j = 0; j < d; j++) restSum[j]! += w[v * d + j]!;
  const rowOf = (i: number) => chosen.rows[chosen.offsets[i]!]!;
  const chosenToken = (i: number) => chosen.targets[chosen.offsets[i]!]!;
  const rejectedToken = (i: number) => rejected.targets[rejected.offsets[i]!]!;
  let trainedOn: number[] | undefined;

  /** z_a = w_a . g for the answer rows and lse over all V rows, from lse_rest (sparse). */
  function scoreFromRows(indices: number[], out: ResponseLogps): void {
    const p = param.data;
    const z = new Float64Array(K);
    indices.forEach((i, b) => {
      const r = rowOf(i);
      let max = lseRest![r]!;
      for (let k = 0; k < K; k++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += p[k * d + j]! * hidden[r * d + j]!;
        z[k] = dot;
        if (dot > max) max = dot;
      }
      let sum = Math.exp(lseRest![r]! - max);
      for (let k = 0; k < K; k++) sum += Math.exp(z[k]! - max);
      const lse = max + Math.log(sum);
      out.chosen[b] = z[slot[chosenToken(i)]!]! - lse;
      out.rejected[b] = z[slot[rejectedToken(i)]!]! - lse;
      let zSum = 0;
      for (let j = 0; j < d; j++) zSum += restSum[j]! * hidden[r * d + j]!;
      for (let k = 0; k < K; k++) zSum += z[k]!;
      out.logitSums.chosen[b] = out.logitSums.rejected[b] = zSum / V;
    });
  }

  /** Logits [B, V] of the batch and their lse (dense: every row of W may have changed). */
  function scoreFromLogits(indices: number[], out: ResponseLogps): void {
    const B = indices.length;
    const h = new Float32Array(B * d);
    indices.forEach((i, b) => h.set(hidden.subarray(rowOf(i) * d, (rowOf(i) + 1) * d), b * d));
    const k = kernels();
    const logits = new Float32Array(B * V);
    k.sgemm(false, true, B, V, d, 1, h, w, 0, logits); // [B,V] = h W^T
    const lse = new Float32Array(B);
    k.logSoftmaxGather(logits, Int32Array.from(indices, chosenToken), B, V, new Float32Array(B), lse);
    indices.forEach((i, b) => {
      out.chosen[b] = logits[b * V + chosenToken(i)]! - lse[b]!;
      out.rejected[b] = logits[b * V + rejectedToken(i)]! - lse[b]!;
      out.logitSums.chosen[b] = out.logitSums.rejected[b] = rowMean(logits, b, V);
    });
  }

  return {
    params: [param],
    description:
      `${o.description}; single-token answers: gradient in the ${K} answer rows only` +
      (sparse ? ', the only rows trained (weight decay 0)' : ', weight decay on every row'),
    logps(indices, training): ResponseLogps {
      const n = indices.length;
      const out: ResponseLogps = {
        chosen: new Float64Array(n),
        rejected: new Float64Array(n),
        logitSums: { chosen: new Float64Array(n), rejected: new Float64Array(n) },
        tokens: { chosen: new Int32Array(n).fill(1), rejected: new Int32Array(n).fill(1) },
      };
      (sparse ? scoreFromRows : scoreFromLogits)(indices, out);
      trainedOn = training ? indices : undefined;
      return out;
    },
    backward(dChosen, dRejected) {
      if (!trainedOn) throw new Error('last-layer: backward without a training forward');
      const g = param.grad;
      trainedOn.forEach((i, b) => {
        // dlogits = dC (e_w - p) + dR (e_l - p): the rows-only gradient is exact when dC + dR = 0.
        // Non-finite values pass into the gradient, where the trainer reports them with the step.
        const sum = dChosen[b]! + dRejected[b]!;
        if (sum !== 0 && Number.isFinite(sum)) {
          throw new Error(
            `last-layer: single-token gradients need dRejected = -dChosen (a loss of the margin); pair ${i} has ${dChosen[b]} and ${dRejected[b]}`,
          );
        }
        const r = rowOf(i);
        for (const [t, dlogp] of [
          [chosenToken(i), dChosen[b]!],
          [rejectedToken(i), dRejected[b]!],
        ] as const) {
          const at = slot[t]! * d;
          for (let j = 0; j < d; j++) g[at + j] = g[at + j]! + dlogp * hidden[r * d + j]!;
        }
      });
      trainedOn = undefined;
    },
    weightNorms: () => ({ 'weights/unembed_delta_norm': Math.sqrt(restDelta2 + deltaNorm(param.data, w0Rows) ** 2) }),
    save(dir) {
      if (sparse) answers.forEach((t, k) => w.set(param.data.subarray(k * d, (k + 1) * d), t * d));
      return o.save(dir, w);
    },
  };
}

/** Mean of row p of logits [P, V]: the vocabulary-mean logit of TRL's logits/* metrics. */
export function rowMean(logits: Float32Array, p: number, V: number): number {
  let s = 0;
  for (let v = 0; v < V; v++) s += logits[p * V + v]!;
  return s / V;
}
