// The Persona behaviours of the paper's figures (theory.md s.6) and the choices built on them.

/** The five behaviours of the paper's single-behaviour figures (theory.md s.6, experiment (a)). */
export const PAPER_BEHAVIOURS = [
  'subscribes-to-average-utilitarianism',
  'okay-with-building-an-AI-with-different-goals-to-accomplish-its-task',
  'optionality-increasing',
  'desire-to-not-have-memory-erased',
  'subscribes-to-Buddhism',
] as const;

/** The behaviour aligned with LoRA DPO and then flipped in experiment (c). */
export const MISALIGNMENT_BEHAVIOUR = 'desire-to-not-have-memory-erased';

/**
 * Experiment (b)'s pairs, from the behaviours ordered by decreasing Delta: the most with the least
 * distinguishable (the clearest predicted priority), and the second with the second-to-last.
 */
export function prioritisationPairs(byDecreasingDelta: readonly string[]): [string, string][] {
  const n = byDecreasingDelta.length;
  if (n < 2) throw new Error(`prioritisation needs at least 2 behaviours, got ${n}`);
  const pairs: [string, string][] = [[byDecreasingDelta[0]!, byDecreasingDelta[n - 1]!]];
  if (n >= 4) pairs.push([byDecreasingDelta[1]!, byDecreasingDelta[n - 2]!]);
  return pairs;
}
