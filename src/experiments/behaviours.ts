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

export type PairKind = 'close' | 'middle' | 'far' | 'unequal';

/**
 * Experiment (b)'s pairs, fixed by the Deltas before any run: of all pairs of behaviours ordered by
 * |Delta_i - Delta_j|, the two closest, the two around the median and the two farthest (fewer when
 * there are fewer pairs), then the closest and the farthest again as 'unequal' (run with the first
 * behaviour's pairs cut to a share). Each pair lists the higher Delta first; ties in the gap keep
 * the behaviours' order.
 */
export function prioritisationPairs(
  deltas: ReadonlyMap<string, number>,
): { groups: [string, string]; kind: PairKind }[] {
  const names = [...deltas.keys()];
  if (names.length < 2) throw new Error(`prioritisation needs at least 2 behaviours, got ${names.length}`);
  const all: { groups: [string, string]; gap: number }[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [names[i]!, names[j]!];
      const [hi, lo] = deltas.get(a)! >= deltas.get(b)! ? [a, b] : [b, a];
      all.push({ groups: [hi, lo], gap: deltas.get(hi)! - deltas.get(lo)! });
    }
  }
  all.sort((x, y) => x.gap - y.gap);
  const m = all.length;
  const picks: [PairKind, number][] = [
    ['close', 0],
    ['close', 1],
    ['middle', Math.floor((m - 1) / 2)],
    ['middle', Math.floor((m - 1) / 2) + 1],
    ['far', m - 2],
    ['far', m - 1],
  ];
  const seen = new Set<number>();
  const out: { groups: [string, string]; kind: PairKind }[] = [];
  for (const [kind, i] of picks) {
    if (i < 0 || i >= m || seen.has(i)) continue;
    seen.add(i);
    out.push({ groups: all[i]!.groups, kind });
  }
  out.push({ groups: all[0]!.groups, kind: 'unequal' });
  if (m > 1) out.push({ groups: all[m - 1]!.groups, kind: 'unequal' });
  return out;
}
