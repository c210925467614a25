// Prompt/response tokenisation for preference pairs: how responses become token ids and loss masks.
//
// Two ways, one option (`--tokenize`, PAIR_TOKENIZATIONS), recorded wherever results are cached or saved:
// - "in-context" (default; TRL's DPOTrainer and SFTTrainer today): prompt + response are tokenised
//   together and the response is the tokens after the prompt's, so a SentencePiece " Yes" after "\n" is
//   the single token "▁Yes" the model reads in context. TRL takes the response as the joint ids after
//   len(prompt ids) and warns when the joint encoding does not start with the prompt's (a merge across
//   the boundary). We cut instead at the longest prefix the prompt's encoding shares with both joint
//   encodings (TRL <= 0.11's build_tokenized_answer moved the cut back one token), so every scored
//   sequence is exactly the joint encoding; the pairs where the cut moved are counted in `note`.
// - "separate" (TRL 0.12 to 0.2x's tokenize_row): prompt and each response tokenised alone (a
//   response's tokens never depend on its prompt) and concatenated.
// For byte-level BPE (GPT-2, Llama-3) both give the same ids for the bundled data.
//
// Decisions (TRL's code differs between versions; these are ours, stated once):
// - The prompt gets the tokenizer's special prefix (Llama: BOS; GPT-2: none; add_bos_token decides
//   where tokenizer_config.json gives it), as TRL <= 0.11 did by prepending BOS. Never an EOS after the
//   prompt (add_eos_token ends responses, below).
// - Responses get no special tokens of the post-processor. TRL appends EOS to every completion; we do
//   so for responses of two or more tokens. A single-token response (Persona's " Yes" / " No") gets no
//   EOS: the theory's setting (theory.md section 2) scores exactly log pi(token | prompt), one forward.
// - Chat pairs (message lists, pair.meta.chat) of a model with a chat template are rendered by it
//   (chat-template.ts); the rendering carries its own special tokens and end-of-turn, so nothing is
//   added to it. Without a template they are the "\n\nHuman: ..." transcript the data loader wrote.
// - Sequences longer than the model's context are cut by truncation.ts's rule (TRL's keep_end), here,
//   so every command scores and embeds exactly the same tokens.
import { UserError } from '../util/errors.js';
import { pairChat, type TextPair } from '../data/chat.js';
import { pairLabel, type PreferencePair } from '../data/pair.js';
import { templatedPair } from './chat-template.js';
import type { ModelTokenizer } from './load.js';
import { truncatedPair, truncationNote, type PairTokens, type TruncationLimits } from './truncation.js';

export type { PairTokens } from './truncation.js';

export const PAIR_TOKENIZATIONS = ['in-context', 'separate'] as const;
/** How a pair's responses are tokenised: after the prompt, in one encoding ("in-context"), or each alone ("separate"). */
export type PairTokenization = (typeof PAIR_TOKENIZATIONS)[number];
export const DEFAULT_PAIR_TOKENIZATION: PairTokenization = 'in-context';

/** The pair's texts: its chat messages through the model's chat template when both exist, else its strings. */
function pairText(tok: ModelTokenizer, pair: PreferencePair): { text: TextPair; templated: boolean } {
  const chat = pairChat(pair.meta);
  if (chat && tok.chatTemplate) return { text: templatedPair(tok.chatTemplate, chat, pair.id), templated: true };
  return { text: pair, templated: false };
}

/** Response ids with EOS appended when the response has several tokens, the tokenizer has an EOS and no template ended the turn. */
function finishedResponse(tok: ModelTokenizer, ids: number[], text: string, templated: boolean): number[] {
  if (ids.length === 0) throw new UserError(`empty response after tokenisation: ${JSON.stringify(text)}`);
  if (ids.length > 1 && tok.eos && !templated) ids.push(tok.eos.id);
  return ids;
}

const commonPrefixLength = (a: number[], b: number[]): number => {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
};

/** The token ids of one pair, before truncation; `boundaryMoved` when a joint encoding re-split the prompt's end. */
function fullPairTokens(
  tok: ModelTokenizer,
  pair: PreferencePair,
  tokenize: PairTokenization,
): { tokens: PairTokens; specialPrefix: number; boundaryMoved: boolean } {
  const { text, templated } = pairText(tok, pair);
  const prefix = templated ? [] : tok.specialPrefix;
  const raw = (s: string) => tok.encode(s, false);
  let prompt = raw(text.prompt);
  let chosen: number[];
  let rejected: number[];
  let boundaryMoved = false;
  if (tokenize === 'separate') {
    chosen = raw(text.chosen);
    rejected = raw(text.rejected);
  } else {
    const withChosen = raw(text.prompt + text.chosen);
    const withRejected = raw(text.prompt + text.rejected);
    const cut = Math.min(commonPrefixLength(prompt, withChosen), commonPrefixLength(prompt, withRejected));
    boundaryMoved = cut < prompt.length;
    prompt = prompt.slice(0, cut);
    chosen = withChosen.slice(cut);
    rejected = withRejected.slice(cut);
  }
  const full = [...prefix, ...prompt];
  return {
    tokens: {
      prompt: full,
      chosen: finishedResponse(tok, chosen, text.chosen, templated),
      rejected: finishedResponse(tok, rejected, text.rejected, templated),
    },
    // The leading special tokens truncation keeps: the prefix, or a template's BOS.
    specialPrefix: templated ? (tok.bos !== undefined && full[0] === tok.bos.id ? 1 : 0) : prefix.length,
    boundaryMoved,
  };
}

/** One pair's token ids: the prompt (with the tokenizer's special prefix) and each response, fitted to `limits`. */
export function pairTokens(
  tok: ModelTokenizer,
  pair: PreferencePair,
  limits: TruncationLimits,
  tokenize: PairTokenization,
): { tokens: PairTokens; truncated: boolean; boundaryMoved: boolean } {
  const full = fullPairTokens(tok, pair, tokenize);
  return { ...truncatedPair(full.tokens, limits, full.specialPrefix), boundaryMoved: full.boundaryMoved };
}

/**
 * Token ids of every pair, in order; how many were truncated, and the stderr note saying so and how
 * many prompts lost end tokens to a merge with the response (undefined when neither happened).
 */
export function tokenizedPairs(
  tok: ModelTokenizer,
  pairs: PreferencePair[],
  limits: TruncationLimits,
  tokenize: PairTokenization,
): { tokens: PairTokens[]; truncated: number; note: string | undefined } {
  let truncated = 0;
  let moved = 0;
  const tokens = pairs.map((p) => {
    const t = pairTokens(tok, p, limits, tokenize);
    if (t.truncated) truncated++;
    if (t.boundaryMoved) moved++;
    return t.tokens;
  });
  const notes = [
    moved > 0
      ? `in ${moved} of ${pairs.length} pairs the prompt's last tokens merge with the response when tokenised together; ` +
        'they are scored as part of the response (--tokenize in-context)'
      : undefined,
    truncationNote(truncated, pairs.length, limits),
  ].filter((n) => n !== undefined);
  return { tokens, truncated, note: notes.length > 0 ? notes.join('; ') : undefined };
}

/** The token ids of `answer` after `prompt`, tokenised as pairs are (`tokenize`), without EOS. */
export function answerIds(tok: ModelTokenizer, prompt: string, answer: string, tokenize: PairTokenization): number[] {
  const pair = { id: 'answer', group: '', prompt, chosen: answer, rejected: answer, meta: {} };
  const ids = Array.from(fullPairTokens(tok, pair, tokenize).tokens.chosen);
  return ids.length > 1 && tok.eos !== undefined && ids.at(-1) === tok.eos.id ? ids.slice(0, -1) : ids;
}

/**
 * A warning when pairs with a Yes/No label have an answer that is not one token: theory.md s.2's
 * setting (the Yes/No rows of lm_head, g(x) at the last prompt token) needs one token per answer.
 */
export function multiTokenAnswerWarning(pairs: PreferencePair[], tokens: PairTokens[]): string | undefined {
  const bad = pairs.flatMap((p, i) => {
    const t = tokens[i]!;
    return pairLabel(p) !== undefined && (t.chosen.length !== 1 || t.rejected.length !== 1) ? [i] : [];
  });
  if (bad.length === 0) return undefined;
  const first = pairs[bad[0]!]!;
  const t = tokens[bad[0]!]!;
  const side = t.chosen.length !== 1 ? 'chosen' : 'rejected';
  const ids = Array.from(t[side]);
  return (
    `WARNING: in ${bad.length} of ${pairs.length} Yes/No pairs an answer is not one token ` +
    `(pair ${first.id}: ${side} ${JSON.stringify(first[side])} is ${ids.length} tokens, ${ids.join(', ')}); ` +
    "theory.md s.2's last-layer setting and its predictions assume one token per answer"
  );
}
