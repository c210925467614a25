// The one preference-pair type every prefdyn stage consumes (architecture.md, contract 2).

export interface PreferencePair {
  /** Stable across runs: persona "<behaviour>/<line index>", hh-rlhf "harmless-base/<line index>". */
  id: string;
  /** The behaviour or subset the pair belongs to (theory.md section 1, the group key b). */
  group: string;
  prompt: string;
  chosen: string;
  rejected: string;
  /**
   * Source-specific extras. `label` (+1 | -1) is set where the two answers are " Yes" and " No":
   * +1 when the preferred answer is " Yes" (the positive side of embeddings contract 3), -1 otherwise.
   */
  meta: Record<string, unknown>;
}

/** +1 when chosen is the Yes answer and rejected the No answer, -1 for the reverse, undefined otherwise. */
export function yesNoLabel(chosen: string, rejected: string): 1 | -1 | undefined {
  const c = chosen.trim();
  const r = rejected.trim();
  if (c === 'Yes' && r === 'No') return 1;
  if (c === 'No' && r === 'Yes') return -1;
  return undefined;
}

/** The pair's label (meta.label) if it has one. */
export function pairLabel(pair: PreferencePair): 1 | -1 | undefined {
  const label = pair.meta.label;
  return label === 1 || label === -1 ? label : undefined;
}

/** The same pair with chosen and rejected swapped (and the label negated): the `--flip` option. */
export function flippedPair(pair: PreferencePair): PreferencePair {
  const meta = { ...pair.meta };
  const label = pairLabel(pair);
  if (label !== undefined) meta.label = -label;
  const chat = meta.chat as { chosen: unknown; rejected: unknown } | undefined;
  if (chat) meta.chat = { ...chat, chosen: chat.rejected, rejected: chat.chosen };
  return { ...pair, chosen: pair.rejected, rejected: pair.chosen, meta };
}
