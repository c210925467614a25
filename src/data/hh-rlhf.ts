// HH-RLHF rows ({chosen, rejected}: whole transcripts) -> pairs. The prompt is the text up to and
// including the last "\n\nAssistant:"; the responses are what follows. Pairs whose two transcripts
// differ before that point have no shared prompt: they are skipped and reported, never silently.
import type { RowLocation } from './errors.js';
import { requireString, type JsonObject } from './json-row.js';
import { yesNoLabel, type PreferencePair } from './pair.js';

const ASSISTANT_TAG = '\n\nAssistant:';

function splitAtLastAssistant(text: string): { prompt: string; response: string } | undefined {
  const at = text.lastIndexOf(ASSISTANT_TAG);
  if (at === -1) return undefined;
  const end = at + ASSISTANT_TAG.length;
  return { prompt: text.slice(0, end), response: text.slice(end) };
}

/** The pair, or the reason it is skipped. `index` is the 0-based line index. */
export function hhRlhfPair(row: JsonObject, group: string, index: number, loc: RowLocation): PreferencePair | { id: string; reason: string } {
  const id = `${group}/${index}`;
  const chosen = splitAtLastAssistant(requireString(row, 'chosen', loc));
  const rejected = splitAtLastAssistant(requireString(row, 'rejected', loc));
  if (!chosen || !rejected) return { id, reason: `no "\\n\\nAssistant:" turn in ${chosen ? 'rejected' : 'chosen'}` };
  if (chosen.prompt !== rejected.prompt) return { id, reason: 'prompts differ: chosen and rejected diverge before their last "\\n\\nAssistant:" turn' };
  const meta: Record<string, unknown> = {};
  const label = yesNoLabel(chosen.response, rejected.response);
  if (label !== undefined) meta.label = label;
  return { id, group, prompt: chosen.prompt, chosen: chosen.response, rejected: rejected.response, meta };
}
