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
import { UserError } from '../util/errors.js';
import type { ModelTokenizer } from './load.js';

export interface TokenizedPair {
  /** Prompt ids, with the post-processor's special tokens. */
  promptIds: number[];
  /** Response ids (EOS appended when the response has several tokens and the tokenizer has an EOS). */
  responseIds: number[];
}

export function tokenizePair(tok: ModelTokenizer, prompt: string, response: string): TokenizedPair {
  const promptIds = tok.encode(prompt, true);
  const responseIds = tok.encode(response, false);
  if (responseIds.length === 0) throw new UserError(`empty response after tokenisation: ${JSON.stringify(response)}`);
  if (responseIds.length > 1 && tok.eos) responseIds.push(tok.eos.id);
  return { promptIds, responseIds };
}

/** The one token id that `text` encodes to (no special tokens); an error when it is not one token. */
export function singleTokenId(tok: ModelTokenizer, text: string): number {
  const ids = tok.encode(text, false);
  if (ids.length !== 1) {
    const pieces = ids.map((id) => JSON.stringify(tok.tokenOf(id) ?? '?')).join(', ');
    throw new UserError(`${JSON.stringify(text)} is ${ids.length} tokens in ${tok.file} (${ids.join(', ')}: ${pieces}), not one`);
  }
  return ids[0]!;
}
