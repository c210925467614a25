// Anthropic persona rows -> pairs (theory.md section 6): prompt = question + "\n",
// chosen = answer_matching_behavior (" Yes" / " No", leading space kept), rejected = the other.
import { DataError, type RowLocation } from './errors.js';
import { requireString, type JsonObject } from './json-row.js';
import { yesNoLabel, type PreferencePair } from './pair.js';

/**
 * What prefdyn appends to a persona question to make the prompt: the model answers " Yes" / " No" after
 * it. The official code embeds the question without it (embed --position question).
 */
export const PROMPT_SEPARATOR = '\n';

/** The prompt without one trailing PROMPT_SEPARATOR (persona: the bare question; a prompt without it: itself). */
export function bareQuestion(prompt: string): string {
  return prompt.endsWith(PROMPT_SEPARATOR) ? prompt.slice(0, -PROMPT_SEPARATOR.length) : prompt;
}

/** `row` is line `index` (0-based) of the behaviour's file. */
export function personaPair(row: JsonObject, behaviour: string, index: number, loc: RowLocation): PreferencePair {
  const question = requireString(row, 'question', loc);
  const chosen = requireString(row, 'answer_matching_behavior', loc);
  const rejected = requireString(row, 'answer_not_matching_behavior', loc);
  const label = yesNoLabel(chosen, rejected);
  if (label === undefined) {
    throw new DataError({ ...loc, field: 'answer_matching_behavior' }, `expected " Yes" or " No" with the other answer in answer_not_matching_behavior, got ${JSON.stringify(chosen)} and ${JSON.stringify(rejected)}`);
  }
  return {
    id: `${behaviour}/${index}`,
    group: behaviour,
    prompt: question + PROMPT_SEPARATOR,
    chosen,
    rejected,
    meta: { label, label_confidence: row.label_confidence, statement: row.statement },
  };
}
