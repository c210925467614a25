// Prompt/response tokenisation for preference pairs, following TRL's DPOTrainer.tokenize_row: prompt
// and response are tokenised separately (so a response's tokens never depend on its prompt) and
// concatenated; the loss covers the response tokens only.
//
// Decisions (TRL's code differs between versions; these are ours, stated once):
// - The prompt gets the special tokens of tokenizer.json's post-processor (Llama: BOS first; GPT-2:
//   none), as TRL <= 0.11 did by prepending BOS. Current TRL adds no BOS to plain-text prompts of
//   decoder-only models, which silently changes a Llama model's inputs; we keep the BOS it was trained with.
// - The response is encoded without special tokens. TRL appends EOS to every completion; we do so for
//   responses of two or more tokens. A single-token response (Persona's " Yes" / " No") gets no EOS:
//   the theory's setting (theory.md section 2) scores exactly log pi(token | prompt), one forward.
// - Sequences longer than the model's context are cut by truncation.ts's rule (TRL's keep_end), here,
//   so every command scores and embeds exactly the same tokens.
import { UserError } from '../util/errors.js';
import type { PreferencePair } from '../data/pair.js';
import type { ModelTokenizer } from './load.js';
import { truncatedPair, truncationNote, type PairTokens, type TruncationLimits } from './truncation.js';

export type { PairTokens } from './truncation.js';

/** Response ids without special tokens, EOS appended when the response has several tokens and the tokenizer has an EOS. */
function responseIds(tok: ModelTokenizer, response: string): number[] {
  const ids = tok.encode(response, false);
  if (ids.length === 0) throw new UserError(`empty response after tokenisation: ${JSON.stringify(response)}`);
  if (ids.length > 1 && tok.eos) ids.push(tok.eos.id);
  return ids;
}

/** How many leading prompt ids the post-processor added (Llama's BOS); truncation keeps them. */
function specialPrefixLength(tok: ModelTokenizer, promptIds: number[]): number {
  return tok.bos !== undefined && promptIds[0] === tok.bos.id && tok.encode('', true)[0] === tok.bos.id ? 1 : 0;
}

/** One pair's token ids: the prompt (with the post-processor's special tokens) and each response, fitted to `limits`. */
export function pairTokens(
  tok: ModelTokenizer,
  pair: PreferencePair,
  limits: TruncationLimits,
): { tokens: PairTokens; truncated: boolean } {
  const prompt = tok.encode(pair.prompt, true);
  const full = { prompt, chosen: responseIds(tok, pair.chosen), rejected: responseIds(tok, pair.rejected) };
  return truncatedPair(full, limits, specialPrefixLength(tok, prompt));
}

/** Token ids of every pair, in order; how many were truncated, and the stderr note saying so (undefined when none). */
export function tokenizedPairs(
  tok: ModelTokenizer,
  pairs: PreferencePair[],
  limits: TruncationLimits,
): { tokens: PairTokens[]; truncated: number; note: string | undefined } {
  let truncated = 0;
  const tokens = pairs.map((p) => {
    const t = pairTokens(tok, p, limits);
    if (t.truncated) truncated++;
    return t.tokens;
  });
  return { tokens, truncated, note: truncationNote(truncated, pairs.length, limits) };
}

/** The one token id that `text` encodes to (no special tokens); an error when it is not one token. */
export function singleTokenId(tok: ModelTokenizer, text: string): number {
  const ids = tok.encode(text, false);
  if (ids.length !== 1) {
    const pieces = ids.map((id) => JSON.stringify(tok.tokenOf(id) ?? '?')).join(', ');
    throw new UserError(
      `${JSON.stringify(text)} is ${ids.length} tokens in ${tok.file} (${ids.join(', ')}: ${pieces}), not one`,
    );
  }
  return ids[0]!;
}
