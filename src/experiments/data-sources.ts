// The data sources the experiments train and analyse on: the bundled Persona behaviours as they are,
// or (profile.pairsPerBehaviour) a seeded subset of each, or a mix where some behaviours keep only a
// share of their pairs (prioritisation with unequal group sizes); subsets are written as .jsonl files
// under <out>/data/ so that every run folder's config.json names data that can be read back.
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { loadSource } from '../data/source.js';
import type { PreferencePair } from '../data/pair.js';
import { Rng } from '../util/rng.js';

export class DataSources {
  private constructor(
    private readonly dir: string,
    /** Every loaded pair per behaviour (the seeded subset when one was drawn). */
    private readonly pairs: Map<string, PreferencePair[]>,
    /** True when `pairs` are subsets: every source is then a written file. */
    private readonly subsetted: boolean,
    /** Pairs per behaviour, in the order the behaviours were given. */
    readonly counts: Map<string, number>,
  ) {}

  /** Loads the behaviours (all pairs, or `perBehaviour` of each drawn with a seeded permutation). */
  static async open(
    behaviours: readonly string[],
    perBehaviour: number | null,
    seed: number,
    dir: string,
  ): Promise<DataSources> {
    const { pairs } = await loadSource(`persona:${behaviours.join(',')}`);
    const byGroup = new Map<string, PreferencePair[]>(behaviours.map((b) => [b, []]));
    for (const p of pairs) byGroup.get(p.group)!.push(p);
    if (perBehaviour === null)
      return new DataSources(dir, byGroup, false, new Map([...byGroup].map(([b, ps]) => [b, ps.length])));
    const subsets = new Map<string, PreferencePair[]>();
    for (const [b, ps] of byGroup) {
      if (ps.length < perBehaviour)
        throw new UserError(`--pairs ${perBehaviour}: persona:${b} has only ${ps.length} pairs`);
      // Drawn in permutation order, then put back in source order so the split sees the file's order.
      const pick = Rng.derive(seed, `subset/${b}`)
        .permutation(ps.length)
        .slice(0, perBehaviour)
        .sort((x, y) => x - y);
      subsets.set(
        b,
        pick.map((i) => ps[i]!),
      );
    }
    return new DataSources(dir, subsets, true, new Map([...subsets].map(([b, ps]) => [b, ps.length])));
  }

  /** Pairs of behaviour `b` in a source made with `shares`. */
  countIn(b: string, shares: ReadonlyMap<string, number> = new Map()): number {
    const n = this.pairs.get(b)?.length;
    if (n === undefined) throw new Error(`behaviour ${b} was not loaded`);
    return Math.max(2, Math.round(n * (shares.get(b) ?? 1)));
  }

  /**
   * A data source (contract 2) holding exactly `behaviours`; `name` names its file when one is written.
   * `shares` keeps the first share (0, 1] of a behaviour's pairs, in source order (at least 2).
   */
  source(behaviours: readonly string[], name: string, shares: ReadonlyMap<string, number> = new Map()): string {
    if (!this.subsetted && shares.size === 0) return `persona:${behaviours.join(',')}`;
    const file = path.join(this.dir, `${name}.jsonl`);
    const lines = behaviours.flatMap((b) => {
      return this.pairs
        .get(b)!
        .slice(0, this.countIn(b, shares))
        .map(
          (p) =>
            JSON.stringify({ id: p.id, group: p.group, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected }) +
            '\n',
        );
    });
    writeFileAtomic(file, lines.join(''));
    return file;
  }
}
