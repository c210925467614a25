import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir } from './helpers/cli.js';
import { dataStats, percentile } from '../src/data/stats.js';
import { tempDir } from './helpers/temp.js';

test('nearest-rank percentiles', () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual(
    [percentile(sorted, 0.5), percentile(sorted, 0.9), percentile(sorted, 1), percentile(sorted, 0.01)],
    [5, 9, 10, 1],
  );
  assert.equal(percentile([], 0.5), 0);
});

test('per-group counts, Yes/No balance, split sizes and prompt lengths of a small file', async () => {
  const stats = await dataStats(path.join(fixturesDir, 'data', 'strings.jsonl'), { testFraction: 0.5 });
  assert.deepEqual(stats.groups, [
    // prompts "Is the sky blue?\n" (17) and "Write a greeting in Japanese." (29)
    {
      group: 'sky',
      pairs: 2,
      train: 1,
      test: 1,
      prefers_yes: 1,
      prefers_no: 0,
      prompt_chars: { p50: 17, p90: 29, max: 29 },
    },
    {
      group: 'snow',
      pairs: 1,
      train: 0,
      test: 1,
      prefers_yes: 0,
      prefers_no: 1,
      prompt_chars: { p50: 23, p90: 23, max: 23 },
    },
  ]);
  assert.deepEqual(stats.total, {
    groups: 2,
    pairs: 3,
    train: 1,
    test: 2,
    prefers_yes: 1,
    prefers_no: 1,
    prompt_chars: { p50: 23, p90: 29, max: 29 },
  });
});

test('a generated file with many rows is counted exactly in one streaming pass', async () => {
  const dir = tempDir('prefdyn-stats-');
  const file = path.join(dir, 'many.jsonl');
  const rows: string[] = [];
  for (let i = 0; i < 30_000; i++)
    rows.push(
      JSON.stringify({
        prompt: 'x'.repeat(i % 100),
        chosen: i % 3 ? ' Yes' : ' No',
        rejected: i % 3 ? ' No' : ' Yes',
        group: `g${i % 7}`,
      }),
    );
  fs.writeFileSync(file, rows.join('\n'));
  const stats = await dataStats(file, { testFraction: 0.1 });
  assert.equal(stats.total.pairs, 30_000);
  assert.equal(stats.total.groups, 7);
  assert.equal(stats.total.prefers_no, 10_000);
  assert.equal(stats.total.prompt_chars.max, 99);
  assert.deepEqual(
    stats.groups.map((g) => g.pairs),
    [4286, 4286, 4286, 4286, 4286, 4285, 4285],
  );
});
