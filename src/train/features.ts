// Last-layer mode's inputs, computed once from the reference model without gradients and cached on
// disk (disk-cache.ts, purpose "hidden"): the final hidden state at every position that predicts a
// response token (theory.md s.2: for single-token answers only g(x), the state at the last prompt
// token, shared by chosen and rejected).
import { noGrad } from '../tensor/autograd.js';
import { gatherRows, reshape } from '../tensor/ops/index.js';
import type { CausalLM } from '../model/model.js';
import { lastTokenHidden } from '../model/embed.js';
import { rightPadded, type PairTokens } from '../model/logprobs.js';
import { singleTokenFeatures, type ResponseFeatures } from './last-layer.js';
import { cachedArray, pairTokensDigest, type Cached } from './disk-cache.js';
import { cacheDir } from '../util/cache-dir.js';
import { stderrCounter } from '../util/progress.js';
import { UserError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';

const isSingleToken = (tokens: PairTokens[]): boolean =>
  tokens.every((t) => t.chosen.length === 1 && t.rejected.length === 1);

/** Rows of hidden states the pairs need: one per pair (single-token answers), else one per response token. */
function scoredRowCount(tokens: PairTokens[]): number {
  return isSingleToken(tokens) ? tokens.length : tokens.reduce((n, t) => n + t.chosen.length + t.rejected.length, 0);
}

/**
 * Hidden states [R, d] (R = scoredRowCount) in the order responseFeatures numbers them: g(x) of every
 * prompt, or, for longer responses, per pair the positions |x|-1 .. |x|+|y|-2 of prompt + chosen,
 * then those of prompt + rejected.
 */
function scoredHidden(model: CausalLM, ids: string[], tokens: PairTokens[], batchSize: number): Float32Array {
  if (isSingleToken(tokens))
    return lastTokenHidden(
      model,
      tokens.map((t) => t.prompt),
      batchSize,
      stderrCounter('hidden states'),
      ids,
    ).data;
  const d = model.config.hiddenSize;
  const seqs = tokens.flatMap((t) => [t.chosen, t.rejected].map((response) => ({ prompt: t.prompt, response })));
  const hidden = new Float32Array(scoredRowCount(tokens) * d);
  let offset = 0;
  noGrad(() => {
    for (let start = 0; start < seqs.length; start += batchSize) {
      const batch = seqs.slice(start, start + batchSize);
      const padded = rightPadded(batch.map((s) => [...Array.from(s.prompt), ...Array.from(s.response)]));
      const { B, T } = padded;
      const out = model.forward(padded.ids, B, T, { logits: 'none' }).hidden; // [B,T,d]
      const positions = batch.flatMap((s, b) => Array.from(s.response, (_, j) => b * T + s.prompt.length - 1 + j));
      const rows = gatherRows(reshape(out, [B * T, d]), Int32Array.from(positions)).data;
      const bad = firstNonFinite(rows);
      if (bad >= 0) {
        // seqs hold chosen then rejected of each pair; positions[r] lies in sequence b = floor(positions[r] / T)
        const pair = Math.floor((start + Math.floor(positions[Math.floor(bad / d)]! / T)) / 2);
        throw new UserError(
          `hidden state of pair ${pair + 1} (${JSON.stringify(ids[pair])}) is ${rows[bad]}: ` +
            "the model's weights or activations are not finite",
        );
      }
      hidden.set(rows, offset);
      offset += rows.length;
    }
  });
  return hidden;
}

/** The features of `tokens` over hidden states laid out as scoredHidden gives them. */
export function responseFeatures(hidden: Float32Array, d: number, tokens: PairTokens[]): ResponseFeatures {
  if (isSingleToken(tokens)) {
    return singleTokenFeatures(
      hidden,
      d,
      Int32Array.from(tokens, (t) => t.chosen[0]!),
      Int32Array.from(tokens, (t) => t.rejected[0]!),
    );
  }
  const side = () => ({ offsets: new Int32Array(tokens.length + 1), rows: [] as number[], targets: [] as number[] });
  const chosen = side();
  const rejected = side();
  let row = 0;
  tokens.forEach((t, i) => {
    for (const [s, resp] of [
      [chosen, t.chosen],
      [rejected, t.rejected],
    ] as const) {
      for (let j = 0; j < resp.length; j++) {
        s.rows.push(row++);
        s.targets.push(resp[j]!);
      }
      s.offsets[i + 1] = s.rows.length;
    }
  });
  const finish = (s: typeof chosen) => ({
    offsets: s.offsets,
    rows: Int32Array.from(s.rows),
    targets: Int32Array.from(s.targets),
  });
  return { d, hidden, chosen: finish(chosen), rejected: finish(rejected) };
}

/** The features of every pair, from the cache when an earlier run computed them with the same model, pairs and settings. */
export async function cachedResponseFeatures(
  model: CausalLM,
  modelHash: string,
  ids: string[],
  tokens: PairTokens[],
  batchSize: number,
): Promise<Cached<ResponseFeatures>> {
  const d = model.config.hiddenSize;
  const R = scoredRowCount(tokens);
  const key = {
    purpose: 'hidden' as const,
    model: modelHash,
    inputs: pairTokensDigest(tokens.map((t, i) => ({ id: ids[i]!, ...t }))),
    settings: `final hidden states at response-predicting positions; batch ${batchSize}`,
  };
  const layout = `float32 little-endian [${R}, ${d}]: ${isSingleToken(tokens) ? 'g(x) at the last prompt token, one row per pair' : 'per pair, the positions predicting each chosen token, then each rejected token'}`;
  const h = await cachedArray(
    cacheDir('hidden'),
    key,
    Float32Array,
    R * d,
    { layout, n_pairs: tokens.length, ids },
    async () => scoredHidden(model, ids, tokens, batchSize),
  );
  return { ...h, data: responseFeatures(h.data, d, tokens) };
}
