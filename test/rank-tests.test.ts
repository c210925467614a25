// The significance tests and the decision rule (src/analysis/rank-tests.ts, decision-rule.ts): exact
// permutation counts in closed form, the Monte Carlo test against a brute-force enumeration, sign tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signTest, spearmanPermutationTest } from '../src/analysis/rank-tests.js';
import { correlationVerdict, isDegenerate, pairwiseVerdict } from '../src/analysis/decision-rule.js';
import { averageRanks, pearson, spearman } from '../src/analysis/rank-correlation.js';
import { Rng } from '../src/util/rng.js';

const rng = () => new Rng(7);

test('a perfect order of 5 has exact p = 1/5! = 1/120; the reversed order p = 1', () => {
  const x = [0.1, 0.5, 0.7, 2, 3];
  const t = spearmanPermutationTest(x, [1, 2, 3, 4, 5], 1000, rng());
  assert.equal(t.p_value, 1 / 120);
  assert.equal(t.method, 'exact permutation (120 pairings)');
  assert.equal(spearmanPermutationTest(x, [5, 4, 3, 2, 1], 1000, rng()).p_value, 1);
});

test('rho = 0.9 over 5 (one adjacent swap): the identity and the 4 adjacent swaps reach it, p = 5/120', () => {
  // sum d^2 = 2 gives rho = 1 - 6*2/(5*24) = 0.9; only adjacent transpositions have sum d^2 = 2.
  const x = [1, 2, 3, 4, 5];
  const y = [1, 2, 4, 3, 5];
  assert.ok(Math.abs(spearman(x, y) - 0.9) < 1e-12);
  assert.equal(spearmanPermutationTest(x, y, 1000, rng()).p_value, 5 / 120);
});

test('beyond 8 behaviours the permutation p-value is (1 + count) / (1 + P), never 0', () => {
  const x = Array.from({ length: 12 }, (_, i) => i);
  const t = spearmanPermutationTest(x, x, 999, rng());
  assert.equal(t.p_value, 1 / 1000);
  assert.equal(t.method, 'permutation (999 seeded draws)');
});

test('the Monte Carlo p-value agrees with the enumeration of all 9! pairings within 4 standard errors', () => {
  const g = new Rng(3);
  const x = Array.from({ length: 9 }, () => g.normal());
  const y = x.map((v) => v + 1.5 * g.normal());
  // Brute force over all 362,880 pairings of the observed ranks.
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const rho = pearson(rx, ry);
  let count = 0;
  let total = 0;
  const visit = (prefix: number[], rest: number[]): void => {
    if (!rest.length) {
      total++;
      if (pearson(rx, prefix) >= rho - 1e-12) count++;
      return;
    }
    for (let i = 0; i < rest.length; i++) visit([...prefix, rest[i]!], [...rest.slice(0, i), ...rest.slice(i + 1)]);
  };
  visit([], ry);
  assert.equal(total, 362_880);
  const exact = count / total;
  const P = 20_000;
  const mc = spearmanPermutationTest(x, y, P, rng()).p_value;
  const se = Math.sqrt((exact * (1 - exact)) / P);
  assert.ok(exact > 0.01 && exact < 0.99, `a p-value away from the ends (${exact})`);
  assert.ok(Math.abs(mc - exact) < 4 * se + 1 / P, `Monte Carlo ${mc} vs exact ${exact} (se ${se})`);
});

test('ties keep their average ranks; no spread on a side gives NaN', () => {
  const t = spearmanPermutationTest([1, 1, 2, 3], [1, 2, 3, 4], 100, rng());
  // 4! = 24 pairings of ranks [1,2,3,4] against x ranks [1.5,1.5,3,4]: rho is maximal for the 2 that put
  // 3 and 4 last (in order), whatever the order of the tied pair.
  assert.equal(t.p_value, 2 / 24);
  const flat = spearmanPermutationTest([1, 2, 3], [5, 5, 5], 100, rng());
  assert.ok(Number.isNaN(flat.p_value));
  assert.equal(flat.method, 'undefined: a side has no spread');
});

test('sign test: P(X >= hits), X ~ Binomial(decided, 1/2)', () => {
  assert.equal(signTest(5, 5).p_value, 1 / 32);
  assert.ok(Math.abs(signTest(3, 4).p_value - 5 / 16) < 1e-15);
  assert.equal(signTest(0, 4).p_value, 1);
  assert.ok(Number.isNaN(signTest(0, 0).p_value));
  assert.ok(signTest(1000, 1000).p_value > 0, 'stays finite for large counts');
});

test('the decision rule: supported, not supported and undecided each reachable', () => {
  const p = (p_value: number) => ({ p_value, method: 'm' });
  assert.equal(correlationVerdict(p(0.01), p(0.99), [0.2, 0.9]), 'supported');
  assert.equal(correlationVerdict(p(0.4), p(0.6), [-0.6, 0.25]), 'not supported');
  assert.equal(correlationVerdict(p(0.4), p(0.6), [-0.6, 0.6]), 'undecided');
  assert.equal(correlationVerdict(p(0.4), p(0.6), [0.1, 0.1]), 'undecided', 'a degenerate interval decides nothing');
  assert.equal(correlationVerdict(p(0.4), p(0.6), null), 'undecided');
  assert.equal(correlationVerdict(p(NaN), p(NaN), [-0.6, 0.2]), 'undecided');
  // The opposite order, significant: not supported, even when resampling gives a degenerate interval
  // (a perfectly reversed order of 5: p = 1 forward, 1/120 backward, interval [-1, -1]).
  assert.equal(correlationVerdict(p(1), p(1 / 120), [-1, -1]), 'not supported');
  assert.equal(correlationVerdict(p(0.9), p(0.03), [-0.8, 0.5]), 'not supported');
  assert.ok(isDegenerate([1, 1]) && !isDegenerate([0.9, 1]) && !isDegenerate(null));
  assert.deepEqual(pairwiseVerdict(6, 6), { decision: 'supported', p_value: 1 / 64 });
  assert.deepEqual(pairwiseVerdict(0, 6), { decision: 'not supported', p_value: 1 });
  assert.equal(pairwiseVerdict(5, 6).decision, 'undecided', 'p = 7/64');
  assert.equal(pairwiseVerdict(2, 2).decision, 'undecided', 'two pairs can never reach p < 0.05');
  // A protocol's alpha applies to sign tests too: 6 of 6 (p = 1/64) is not below 0.01.
  assert.equal(pairwiseVerdict(6, 6, { alpha: 0.01, minimum_rho: 0.3, permutations: 99 }).decision, 'undecided');
});
