// Implicit-prompt text rows: chosen and rejected each hold the whole conversation; the prompt is their
// shared beginning, cut where a response naturally starts.
import type { TextPair } from './chat.js';

const ASSISTANT_TAG = '\n\nAssistant:';
const WORD_CHAR = /[\p{L}\p{N}_]/u;

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Where the prompt ends, given the two texts and their common prefix length `common`:
 * - after the last "\n\nAssistant:" inside the common prefix (transcripts, as hh-rlhf);
 * - else not inside a word (back off to the word's start), and a whitespace character just before the
 *   cut goes to the responses (as TRL's extract_prompt does), so responses start with " ".
 */
function promptEnd(a: string, b: string, common: number): number {
  const tag = common >= ASSISTANT_TAG.length ? a.lastIndexOf(ASSISTANT_TAG, common - ASSISTANT_TAG.length) : -1;
  if (tag !== -1) return tag + ASSISTANT_TAG.length;
  let cut = common;
  const continuesWord = (s: string) => cut < s.length && WORD_CHAR.test(s[cut]!);
  if (cut > 0 && WORD_CHAR.test(a[cut - 1]!) && (continuesWord(a) || continuesWord(b))) {
    while (cut > 0 && WORD_CHAR.test(a[cut - 1]!)) cut--;
  }
  if (cut > 0 && /\s/.test(a[cut - 1]!)) cut--;
  return cut;
}

/** The split, or the reason there is none. */
export function splitSharedPrefix(chosen: string, rejected: string): TextPair | { reason: string } {
  if (chosen === rejected) return { reason: 'chosen and rejected are identical' };
  const common = commonPrefixLength(chosen, rejected);
  const end = promptEnd(chosen, rejected, common);
  if (end === 0) return { reason: 'chosen and rejected share no beginning to use as the prompt; give a prompt field' };
  return { prompt: chosen.slice(0, end), chosen: chosen.slice(end), rejected: rejected.slice(end) };
}
