import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PreferencePair } from '../src/data/pair.js';
import { splitPairs, testSize } from '../src/data/split.js';

function pairs(group: string, n: number): PreferencePair[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${group}/${i}`,
    group,
    prompt: `${i}`,
    chosen: ' Yes',
    rejected: ' No',
    meta: {},
  }));
}
const ids = (ps: PreferencePair[]) => ps.map((p) => p.id);

test('each group holds out round(n * fraction) pairs; train and test partition the pairs in source order', () => {
  const all = [...pairs('a', 1000), ...pairs('b', 992), ...pairs('c', 5)];
  const { train, test: held } = splitPairs(all, { testFraction: 0.1, seed: 1234 });
  const count = (ps: PreferencePair[], g: string) => ps.filter((p) => p.group === g).length;
  assert.deepEqual([count(held, 'a'), count(held, 'b'), count(held, 'c')], [100, 99, 1]);
  assert.equal(testSize(992, 0.1), 99);
  assert.deepEqual([...ids(train), ...ids(held)].sort(), ids(all).sort());
  const position = new Map(all.map((p, i) => [p.id, i]));
  for (const part of [train, held]) {
    const at = part.map((p) => position.get(p.id)!);
    assert.deepEqual(
      at,
      [...at].sort((x, y) => x - y),
    );
  }
});

test("a group's split is the same whatever other groups are present and in whatever order", () => {
  const a = pairs('a', 200);
  const alone = splitPairs(a, { testFraction: 0.2, seed: 7 }).test;
  const mixed = splitPairs([...pairs('z', 50), ...a, ...pairs('b', 300)], { testFraction: 0.2, seed: 7 }).test.filter(
    (p) => p.group === 'a',
  );
  assert.deepEqual(ids(mixed), ids(alone));
  assert.deepEqual(ids(splitPairs(a, { testFraction: 0.2, seed: 7 }).test), ids(alone));
});

test('another seed holds out other pairs; fraction 0 holds out none; a fraction of 1 is refused', () => {
  const a = pairs('a', 200);
  assert.notDeepEqual(ids(splitPairs(a, { seed: 1 }).test), ids(splitPairs(a, { seed: 2 }).test));
  assert.equal(splitPairs(a, { testFraction: 0 }).test.length, 0);
  assert.throws(() => splitPairs(a, { testFraction: 1 }), /test fraction must be in \[0, 1\), got 1/);
});
