// Embeddings g(x) for the distinguishability analysis (theory.md sections 2, 3 and 5): the final hidden
// state (after the final norm, exactly what lm_head multiplies) at the last token of each sequence.
// For Yes/No pairs the sequence is the prompt; for free-text pairs it is prompt + response.
// prefdyn applies the final norm once (the paper's code applies it twice; theory.md section 6).
import { gatherRows, reshape } from '../tensor/ops/index.js';
import { noGrad } from '../tensor/autograd.js';
import { UserError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';
import { pairLabel, type PreferencePair } from '../data/pair.js';
import { bareQuestion } from '../data/persona.js';
import type { ModelTokenizer } from '../tokenizer/load.js';
import { multiTokenAnswerWarning, tokenizedPairs, type PairTokenization } from '../tokenizer/pair.js';
import type { TruncationLimits } from '../tokenizer/truncation.js';
import type { OnProgress } from '../util/progress.js';
import type { CausalLM } from './model.js';
import { rightPadded } from './logprobs.js';

/**
 * Hidden state at the last token of each sequence: [N*d] row-major ([N,d]), no gradients. Sequences
 * are batched in order of length (stable), so a batch pads little; rows come back in input order.
 * A non-finite value is a UserError naming the row (its id from `rowIds` when given).
 */
export function lastTokenHidden(
  model: CausalLM,
  seqs: ArrayLike<number>[],
  batchSize: number,
  onProgress?: OnProgress,
  rowIds?: readonly string[],
): { data: Float32Array; d: number } {
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  seqs.forEach((s, i) => {
    if (s.length === 0) throw new Error(`lastTokenHidden: sequence ${i} is empty`);
  });
  const d = model.config.hiddenSize;
  const data = new Float32Array(seqs.length * d);
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a]!.length - seqs[b]!.length);
  noGrad(() => {
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const batch = idx.map((i) => seqs[i]!);
      const { ids, B, T } = rightPadded(batch);
      const { hidden } = model.forward(ids, B, T, { logits: 'none' }); // [B,T,d]
      const last = Int32Array.from(batch, (s, b) => b * T + s.length - 1);
      const rows = gatherRows(reshape(hidden, [B * T, d]), last).data; // [B,d]
      const bad = firstNonFinite(rows);
      if (bad >= 0) {
        const i = idx[Math.floor(bad / d)]!;
        throw new UserError(
          `hidden state of row ${i + 1}${rowIds ? ` (${JSON.stringify(rowIds[i])})` : ''} is ${rows[bad]} at dimension ${bad % d}: ` +
            "the model's weights or activations are not finite",
        );
      }
      idx.forEach((i, b) => data.set(rows.subarray(b * d, (b + 1) * d), i * d));
      onProgress?.(start + batch.length, seqs.length);
    }
  });
  return { data, d };
}

/**
 * Where g(x) is taken (theory.md s.3 and s.5). For a persona prompt, question + "\n":
 *   question  the last token of the bare question, the prompt without its trailing "\n" (persona: the
 *             closing quote), tokenised on its own: the official code's embedding
 *   newline   the last token of the prompt as scored, question + "\n": where the model answers " Yes" / " No",
 *             i.e. the g(x) that last-layer DPO trains on (prefdyn's embedding before --position)
 *   response  the last tokens of prompt + chosen and of prompt + rejected (free-text pairs)
 * A prompt without a trailing "\n" gives the same rows at question and newline.
 */
export type EmbedPosition = 'question' | 'newline' | 'response';

/** Each position's definition, as written into the embeddings file's metadata (embedding_position_definition). */
export const EMBED_POSITION_DEFINITIONS: Record<EmbedPosition, string> = {
  question:
    'final hidden state at the last token of the bare question: the prompt without its trailing "\\n" (persona: the closing quote), tokenised on its own, as the official code embeds it; one row per pair',
  newline:
    'final hidden state at the last token of the prompt as scored, question + "\\n" (where the model answers " Yes" / " No"); one row per pair',
  response:
    'final hidden states at the last token of prompt + chosen (row "<id>/chosen", +1) and of prompt + rejected ("<id>/rejected", -1)',
};

/** The embeddings file's metadata keys for a position: `position` (the sequence: "prompt" or "response"), `embedding_position` and its definition. */
export function positionMetadata(position: EmbedPosition): Record<string, string> {
  return {
    position: position === 'response' ? 'response' : 'prompt',
    embedding_position: position,
    embedding_position_definition: EMBED_POSITION_DEFINITIONS[position],
  };
}

export interface EmbeddingRow {
  id: string;
  group: string;
  /** +1: the positive side (persona: the preferred answer is " Yes"; free text: the chosen response). */
  label: 1 | -1;
}

/**
 * Contract 3's rows, one per pair at 'question' and 'newline' (label from the pair's Yes/No label,
 * theory.md section 3), two at 'response' (theory.md section 5); see EmbedPosition.
 * 'auto' picks 'newline' when every pair has a Yes/No label, else 'response'. Pairs are tokenised and
 * truncated as for scoring (tokenizer/pair.ts), so the prompt embedded is the prompt scored (at
 * 'question', without its trailing "\n"); `note` reports the truncation; `warning` says when Yes/No
 * answers are not one token each after the prompt as scored.
 */
export function embedPairs(
  model: CausalLM,
  tok: ModelTokenizer,
  pairs: PreferencePair[],
  opts: {
    position: EmbedPosition | 'auto';
    batchSize: number;
    limits: TruncationLimits;
    tokenize: PairTokenization;
    onProgress?: OnProgress;
  },
): {
  data: Float32Array;
  d: number;
  rows: EmbeddingRow[];
  position: EmbedPosition;
  note: string | undefined;
  warning: string | undefined;
} {
  const position =
    opts.position === 'auto'
      ? pairs.every((p) => pairLabel(p) !== undefined)
        ? 'newline'
        : 'response'
      : opts.position;
  const labels = pairs.map((pair) => {
    const label = pairLabel(pair);
    if (position !== 'response' && label === undefined) {
      throw new UserError(
        `pair ${pair.id}: no Yes/No label, so its prompt embedding has no side; use --position response (embeds prompt + chosen and prompt + rejected)`,
      );
    }
    if (position === 'question' && bareQuestion(pair.prompt) === '')
      throw new UserError(
        `pair ${pair.id}: the prompt is empty without its trailing "\\n"; nothing to embed at --position question`,
      );
    return label;
  });
  const embedded = position === 'question' ? pairs.map((p) => ({ ...p, prompt: bareQuestion(p.prompt) })) : pairs;
  const { tokens, note } = tokenizedPairs(tok, embedded, opts.limits, opts.tokenize);
  // g(x) at the last prompt token predicts an answer's first token only: the theory's Delta (s.3) needs
  // one-token answers after the prompt as scored (with its "\n", also when embedding at 'question').
  const scored = position === 'question' ? tokenizedPairs(tok, pairs, opts.limits, opts.tokenize).tokens : tokens;
  const warning = position === 'response' ? undefined : multiTokenAnswerWarning(pairs, scored);
  const seqs: number[][] = [];
  const rows: EmbeddingRow[] = [];
  pairs.forEach((pair, i) => {
    const t = tokens[i]!;
    if (position !== 'response') {
      seqs.push(Array.from(t.prompt));
      rows.push({ id: pair.id, group: pair.group, label: labels[i]! });
    } else {
      for (const [side, response, label] of [
        ['chosen', t.chosen, 1],
        ['rejected', t.rejected, -1],
      ] as const) {
        seqs.push([...Array.from(t.prompt), ...Array.from(response)]);
        rows.push({ id: `${pair.id}/${side}`, group: pair.group, label });
      }
    }
  });
  return {
    ...lastTokenHidden(
      model,
      seqs,
      opts.batchSize,
      opts.onProgress,
      rows.map((r) => r.id),
    ),
    rows,
    position,
    note,
    warning,
  };
}
