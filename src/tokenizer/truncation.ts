// Fitting a preference pair into the model's context: the one rule behind every command that tokenises
// pairs (logprobs, embed, analyze --model, train, reproduce), TRL's DPOTrainer with truncation_mode
// "keep_end". With L = --max-length (prompt + response tokens of one sequence; default the model's
// max_position_embeddings / n_positions) and P = --max-prompt-length (default: none beyond L):
//   1. when the prompt plus the longer response exceeds L, the prompt keeps its last min(P, L - 1)
//      tokens: cut from its start, so the last turn and its "\n\nAssistant:" stay, and at least one
//      response token always fits (a prompt that alone fills L is cut too);
//   2. when that still exceeds L, each response keeps its first L - |prompt| tokens (its EOS may go).
// Differences from TRL, both to keep more of the pair: the prompt's leading special tokens (the BOS a
// Llama post-processor adds) are kept in front of the kept tail, since the model was trained with them;
// responses keep L - |prompt| tokens where TRL keeps L - P.

export interface TruncationLimits {
  /** Tokens of prompt + response, at most. */
  maxLength: number;
  /** Tokens of the prompt when a sequence is too long; undefined = L - 1. */
  maxPromptLength?: number;
}

/** A pair's token ids: the prompt and the two responses (pair.ts says how they are tokenised). */
export interface PairTokens {
  prompt: ArrayLike<number>;
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
}

/**
 * The pair cut to `limits` by the rule above; `specialPrefix` = how many leading prompt tokens are the
 * post-processor's (kept). `truncated` says whether any token was cut.
 */
export function truncatedPair(
  t: PairTokens,
  limits: TruncationLimits,
  specialPrefix = 0,
): { tokens: PairTokens; truncated: boolean } {
  const L = limits.maxLength;
  const longer = Math.max(t.chosen.length, t.rejected.length);
  if (t.prompt.length + longer <= L) return { tokens: t, truncated: false };
  let prompt = Array.from(t.prompt);
  const promptBudget = Math.min(limits.maxPromptLength ?? L - 1, L - 1);
  if (prompt.length > promptBudget) {
    const kept = Math.min(specialPrefix, promptBudget);
    prompt = [...prompt.slice(0, kept), ...prompt.slice(prompt.length - (promptBudget - kept))];
  }
  const responseBudget = L - prompt.length;
  const cut = (r: ArrayLike<number>) => (r.length > responseBudget ? Array.from(r).slice(0, responseBudget) : r);
  return { tokens: { prompt, chosen: cut(t.chosen), rejected: cut(t.rejected) }, truncated: true };
}

/** The stderr line that reports truncation, once per command; undefined when nothing was cut. */
export function truncationNote(truncated: number, total: number, limits: TruncationLimits): string | undefined {
  if (truncated === 0) return undefined;
  const prompt = limits.maxPromptLength === undefined ? '' : ` and --max-prompt-length ${limits.maxPromptLength}`;
  return `truncated ${truncated} of ${total} pairs to --max-length ${limits.maxLength}${prompt} (prompt kept from its end, as TRL's keep_end)`;
}
