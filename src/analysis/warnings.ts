// Warnings `analyze` attaches to its report: things a user would want to know before trusting a ranking.
import type { AnalysisWarning, GroupAnalysis } from './analysis-report.js';

/** Below this many rows on a side the covariance and tail estimates are unstable. */
export const MIN_SIDE_ROWS = 30;
/** A 95% delta interval wider than this fraction of delta (half-width) marks an unstable estimate. */
export const MAX_DELTA_CI_HALF_WIDTH = 0.25;
/** In a mix, a group whose margin velocity is below this fraction of the mix's weighted mean is de-prioritised. */
export const DEPRIORITISED_FRACTION = 0.5;

export function smallGroupWarnings(groups: readonly GroupAnalysis[]): AnalysisWarning[] {
  const out: AnalysisWarning[] = [];
  for (const g of groups) {
    const smallest = Math.min(g.n_pos, g.n_neg);
    const halfWidth = g.delta_ci ? (g.delta_ci[1] - g.delta_ci[0]) / 2 : 0;
    if (smallest < MIN_SIDE_ROWS) {
      out.push({
        kind: 'small-group',
        groups: [g.group],
        message: `group "${g.group}" has only ${g.n_pos} positive / ${g.n_neg} negative rows (fewer than ${MIN_SIDE_ROWS} on a side): its concentration and tail estimates are unstable`,
      });
    } else if (g.delta > 0 && halfWidth > MAX_DELTA_CI_HALF_WIDTH * g.delta) {
      out.push({
        kind: 'small-group',
        groups: [g.group],
        message: `group "${g.group}": delta ${fmt(g.delta)} has a 95% interval [${fmt(g.delta_ci![0])}, ${fmt(g.delta_ci![1])}] wider than +-${MAX_DELTA_CI_HALF_WIDTH * 100}%: too few rows for a stable estimate`,
      });
    }
  }
  return out;
}

/** Groups of the mix whose margin velocity is <= 0, or below DEPRIORITISED_FRACTION of the mix's weighted mean. */
export function deprioritisedWarnings(groups: readonly GroupAnalysis[]): AnalysisWarning[] {
  const mix = groups.filter((g) => g.in_mix);
  if (mix.length < 2) return [];
  const mean = mix.reduce((s, g) => s + g.mix_weight * g.margin_velocity, 0);
  const out: AnalysisWarning[] = [];
  for (const g of mix) {
    if (g.margin_velocity <= 0) {
      out.push({
        kind: 'deprioritised',
        groups: [g.group],
        message: `group "${g.group}" is predicted to get WORSE at first in this mix: its initial margin velocity is ${fmt(g.margin_velocity)} (the shared update points away from its preference)`,
      });
    } else if (g.margin_velocity < DEPRIORITISED_FRACTION * mean) {
      out.push({
        kind: 'deprioritised',
        groups: [g.group],
        message: `group "${g.group}" is predicted to be de-prioritised in this mix: initial margin velocity ${fmt(g.margin_velocity)} is ${fmt(g.margin_velocity / mean)} x the mix's mean ${fmt(mean)}`,
      });
    }
  }
  return out;
}

/** Normalised prompt text: case, whitespace and punctuation do not make two statements different. */
export function duplicateKey(prompt: string): string {
  return prompt
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** One warning for all keys (prompts, or embedding rows) found in more than one group. */
export function duplicateWarning(
  groupsOfKey: ReadonlyMap<string, ReadonlySet<string>>,
  by: 'prompt' | 'embedding',
): AnalysisWarning | null {
  const pairCounts = new Map<string, number>();
  let shared = 0;
  const groups = new Set<string>();
  for (const set of groupsOfKey.values()) {
    if (set.size < 2) continue;
    shared++;
    const list = [...set].sort();
    list.forEach((g) => groups.add(g));
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const key = `${list[i]} & ${list[j]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + 1);
      }
    }
  }
  if (shared === 0) return null;
  const top = [...pairCounts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, n]) => `${k} (${n})`)
    .join(', ');
  const what =
    by === 'prompt'
      ? 'prompts (after normalising case, spaces and punctuation)'
      : 'identical embedding rows (rows.jsonl has no "prompt" field to compare text)';
  return {
    kind: 'near-duplicates',
    groups: [...groups].sort(),
    message: `${shared} ${what} appear in more than one group, across ${groups.size} groups; most shared: ${top}. Their groups' estimates are not independent`,
  };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(3) : String(x);
}
