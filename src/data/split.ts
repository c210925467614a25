// Seeded per-group train/test split (theory.md section 6: per behaviour a seeded shuffle and a 90/10
// split). A group's split depends only on the seed, the group's name and its pairs in source order,
// so it is the same across runs and whatever other groups are loaded, in whatever order.
import { Rng } from '../util/rng.js';
import type { PreferencePair } from './pair.js';

export const DEFAULT_TEST_FRACTION = 0.1;
export const DEFAULT_SPLIT_SEED = 1234;

export interface SplitOptions {
  /** Share of each group held out, in [0, 1). */
  testFraction?: number;
  seed?: number;
}

export function checkTestFraction(testFraction: number): void {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError(`test fraction must be in [0, 1), got ${testFraction}`);
}

/** Test pairs of a group of n: round(n * testFraction). */
export function testSize(n: number, testFraction: number): number {
  return Math.round(n * testFraction);
}

/** Train and test pairs, each in source order. */
export function splitPairs(pairs: readonly PreferencePair[], opts: SplitOptions = {}): { train: PreferencePair[]; test: PreferencePair[] } {
  const testFraction = opts.testFraction ?? DEFAULT_TEST_FRACTION;
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  checkTestFraction(testFraction);
  const byGroup = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const members = byGroup.get(p.group);
    if (members) members.push(i);
    else byGroup.set(p.group, [i]);
  });
  const inTest = new Uint8Array(pairs.length);
  for (const [group, members] of byGroup) {
    const order = Rng.derive(seed, `split/${group}`).permutation(members.length);
    const nTest = testSize(members.length, testFraction);
    for (let k = 0; k < nTest; k++) inTest[members[order[k]!]!] = 1;
  }
  const train: PreferencePair[] = [];
  const test: PreferencePair[] = [];
  pairs.forEach((p, i) => (inTest[i] ? test : train).push(p));
  return { train, test };
}
