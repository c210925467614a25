// Response log-probabilities (architecture.md contract 6; theory.md section 1):
//   log pi(y | x) = sum_j log softmax(logits at position |x| - 1 + j)[y_j],
// prompt tokens masked, summed over the response tokens only. Sequences are batched right-padded
// (causal attention makes padding invisible to real positions), and the lm_head runs only at the
// positions that predict a response token. Single-token answers (persona's " Yes"/" No") cost one
// forward of the prompt: the logits at its last position give both answers.
import { Tensor } from '../tensor/tensor.js';
import { gatherLogProbs, matmul, reshape } from '../tensor/ops/index.js';
import { noGrad } from '../tensor/autograd.js';
import type { PairTokens } from '../tokenizer/pair.js';
import type { OnProgress } from '../util/progress.js';
import { UserError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';
import type { CausalLM, ForwardOptions } from './model.js';

export interface ScoredSequence {
  prompt: ArrayLike<number>;
  response: ArrayLike<number>;
}

export type { PairTokens } from '../tokenizer/pair.js';

export interface PairLogProbs {
  logpChosen: number;
  logpRejected: number;
  nTokensChosen: number;
  nTokensRejected: number;
}

/** Right-pads sequences into ids [B,T] (pad = 0: padded positions are never read). */
export function rightPadded(seqs: ArrayLike<number>[]): { ids: Int32Array; B: number; T: number } {
  const B = seqs.length;
  const T = Math.max(1, ...seqs.map((s) => s.length));
  const ids = new Int32Array(B * T);
  seqs.forEach((s, b) => ids.set(Array.from(s), b * T));
  return { ids, B, T };
}

/**
 * Adds each row's mean over the vocabulary of logits [M,V] into sums[owner[m]] (TRL's logits/* metric
 * averages the raw logits of the response tokens over positions and vocabulary).
 */
function addRowMeans(logits: Tensor, owner: ArrayLike<number>, sums: Float64Array): void {
  const V = logits.shape[1]!;
  const z = logits.data;
  for (let m = 0; m < owner.length; m++) {
    let s = 0;
    for (let v = 0; v < V; v++) s += z[m * V + v]!;
    sums[owner[m]!]! += s / V;
  }
}

/**
 * Summed log pi(response | prompt) of each sequence: [N], differentiable when the model's parameters
 * (or adapter) require gradients. One forward over the batch. `meanLogitSums` [N], when given, receives
 * each sequence's sum over its response tokens of the vocabulary-mean logit.
 */
export function responseLogProbs(
  model: CausalLM,
  items: ScoredSequence[],
  opts: ForwardOptions = {},
  meanLogitSums?: Float64Array,
): Tensor {
  for (const [i, it] of items.entries()) {
    if (it.prompt.length === 0)
      throw new Error(`responseLogProbs: sequence ${i} has an empty prompt (nothing predicts its first token)`);
    if (it.response.length === 0) throw new Error(`responseLogProbs: sequence ${i} has an empty response`);
  }
  const { ids, B, T } = rightPadded(items.map((it) => [...Array.from(it.prompt), ...Array.from(it.response)]));
  // positions b*T + |x_b| - 1 + j predict response token j; rowOf maps each to its sequence
  const positions: number[] = [];
  const targets: number[] = [];
  const rowOf: number[] = [];
  items.forEach((it, b) => {
    for (let j = 0; j < it.response.length; j++) {
      positions.push(b * T + it.prompt.length - 1 + j);
      targets.push(it.response[j]!);
      rowOf.push(b);
    }
  });
  const { logits } = model.forward(ids, B, T, { ...opts, logits: Int32Array.from(positions) }); // [M,V]
  const lp = gatherLogProbs(logits!, Int32Array.from(targets)); // [M]
  if (meanLogitSums) addRowMeans(logits!, rowOf, meanLogitSums);
  // sum per sequence: lp [1,M] @ S [M,B], S[m,b] = 1 when position m belongs to sequence b
  const S = Tensor.zeros([rowOf.length, B]);
  rowOf.forEach((b, m) => (S.data[m * B + b] = 1));
  return reshape(matmul(reshape(lp, [1, rowOf.length]), S), [B]);
}

/**
 * log pi(answer | prompt) for single-token answers, one forward of the prompts:
 * answers[k] gives one token id per prompt; returns one Tensor [N] per k. `meanLogits` [N], when
 * given, receives the mean over the vocabulary of the logits at each prompt's last position.
 */
export function nextTokenLogProbs(
  model: CausalLM,
  prompts: ArrayLike<number>[],
  answers: Int32Array[],
  opts: ForwardOptions = {},
  meanLogits?: Float64Array,
): Tensor[] {
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`nextTokenLogProbs: prompt ${i} is empty`);
  });
  const { ids, B, T } = rightPadded(prompts);
  const last = Int32Array.from(prompts, (p, b) => b * T + p.length - 1);
  const { logits } = model.forward(ids, B, T, { ...opts, logits: last }); // [N,V]
  if (meanLogits)
    addRowMeans(
      logits!,
      Int32Array.from(prompts, (_, b) => b),
      meanLogits,
    );
  return answers.map((a) => gatherLogProbs(logits!, a));
}

const isSingleToken = (p: PairTokens): boolean => p.chosen.length === 1 && p.rejected.length === 1;

/**
 * Pair indices in scoring order: single-token pairs first (they share the one-forward path), each kind
 * by padded length (prompt + longer response), stable, so a batch pads little.
 */
function scoringOrder(pairs: PairTokens[]): number[] {
  const freeText = pairs.map((p) => Number(!isSingleToken(p)));
  const padded = pairs.map((p) => p.prompt.length + Math.max(p.chosen.length, p.rejected.length));
  return pairs.map((_, i) => i).sort((a, b) => freeText[a]! - freeText[b]! || padded[a]! - padded[b]!);
}

/**
 * Contract 6's numbers for every pair, in input order, no gradients, in batches of `batchSize` pairs
 * taken in scoringOrder. Batches whose pairs all have single-token responses take the one-forward path.
 * A non-finite log-prob (NaN weights, overflowing activations) is a UserError naming the pair (its id
 * from `ids` when given) before anything is returned.
 */
export function pairLogProbs(
  model: CausalLM,
  pairs: PairTokens[],
  batchSize: number,
  onProgress?: OnProgress,
  ids?: readonly string[],
): PairLogProbs[] {
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const out = new Array<PairLogProbs>(pairs.length);
  const order = scoringOrder(pairs);
  noGrad(() => {
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const batch = idx.map((i) => pairs[i]!);
      let chosen: Float32Array;
      let rejected: Float32Array;
      if (batch.every(isSingleToken)) {
        const [c, r] = nextTokenLogProbs(
          model,
          batch.map((p) => p.prompt),
          [Int32Array.from(batch, (p) => p.chosen[0]!), Int32Array.from(batch, (p) => p.rejected[0]!)],
        );
        chosen = c!.data;
        rejected = r!.data;
      } else {
        const both = responseLogProbs(model, [
          ...batch.map((p) => ({ prompt: p.prompt, response: p.chosen })),
          ...batch.map((p) => ({ prompt: p.prompt, response: p.rejected })),
        ]).data;
        chosen = both.subarray(0, batch.length);
        rejected = both.subarray(batch.length);
      }
      for (const [key, values] of [
        ['logp_chosen', chosen],
        ['logp_rejected', rejected],
      ] as const) {
        const b = firstNonFinite(values);
        if (b >= 0) {
          const i = idx[b]!;
          throw new UserError(
            `${key} of pair ${i + 1}${ids ? ` (${JSON.stringify(ids[i])})` : ''} is ${values[b]}: ` +
              "the model's weights or activations are not finite",
          );
        }
      }
      batch.forEach(
        (p, b) =>
          (out[idx[b]!] = {
            logpChosen: chosen[b]!,
            logpRejected: rejected[b]!,
            nTokensChosen: p.chosen.length,
            nTokensRejected: p.rejected.length,
          }),
      );
      onProgress?.(start + batch.length, pairs.length);
    }
  });
  return out;
}
