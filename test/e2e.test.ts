// End to end on a tiny model, as a user runs it: model init -> analyze --model --data (twice: the
// second reads the embeddings cache) -> train --mode last-layer on a mix of two persona behaviours ->
// compare, whose numbers are checked against the run's own metrics.jsonl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { loadSource } from '../src/data/source.js';
import type { ComparisonReport } from '../src/analysis/compare-run.js';
import { tempDir } from './helpers/temp.js';

const BEHAVIOURS = ['subscribes-to-Buddhism', 'subscribes-to-average-utilitarianism'];
let tmp = '';
let env: NodeJS.ProcessEnv = {};

before(() => {
  tmp = tempDir('prefdyn-e2e-');
  env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Line {
  step: number;
  split: string;
  group: string;
  loss: number;
  'policy/accuracies': number;
}

test('model init -> analyze (cached the second time) -> train last-layer on two behaviours -> compare agrees with metrics.jsonl', async () => {
  const model = path.join(tmp, 'tiny');
  // The full GPT-2 tokenizer (the default): " Yes" and " No" are single tokens, as last-layer mode needs.
  const init = runCli([
    'model',
    'init',
    '--arch',
    'llama',
    '--size',
    'd=32,layers=1,heads=4,kv=2,ctx=256',
    '--out',
    model,
    '--seed',
    '5',
  ]);
  assert.equal(init.code, 0, init.stderr);

  // 40 pairs of each behaviour keep the test to seconds.
  const { pairs } = await loadSource(`persona:${BEHAVIOURS.join(',')}`);
  const data = path.join(tmp, 'mix.jsonl');
  const rows = BEHAVIOURS.flatMap((b) => pairs.filter((p) => p.group === b).slice(0, 40));
  fs.writeFileSync(
    data,
    rows
      .map((p) =>
        JSON.stringify({ id: p.id, group: p.group, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected }),
      )
      .join('\n') + '\n',
  );

  const analysisFile = path.join(tmp, 'a.json');
  const analyze = () =>
    runCli(['analyze', '--model', model, '--data', data, '--json', analysisFile, '--bootstrap', '20'], { env });
  const first = analyze();
  assert.equal(first.code, 0, first.stderr);
  const made = /^prefdyn: wrote embeddings (.+)\.safetensors$/m.exec(first.stderr);
  assert.ok(made, first.stderr);
  assert.equal(
    path.dirname(made[1]!),
    path.join(tmp, 'cache', 'embeddings'),
    'analyze keeps its embeddings in $PREFDYN_CACHE_DIR/embeddings',
  );
  const analysisText = fs.readFileSync(analysisFile, 'utf8');
  const second = analyze();
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `^prefdyn: using cached embeddings ${made[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.safetensors$`,
      'm',
    ),
  );
  assert.equal(second.stdout, first.stdout);
  assert.equal(fs.readFileSync(analysisFile, 'utf8'), analysisText);

  const run = path.join(tmp, 'run');
  const train = runCli(
    [
      'train',
      '--model',
      model,
      '--data',
      data,
      '--mode',
      'last-layer',
      '--steps',
      '8',
      '--batch-size',
      '32',
      '--lr',
      '300',
      '--eval-every',
      '2',
      '--out',
      run,
    ],
    { env },
  );
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stdout, /^completed 8\/8 steps; /);

  const cmpFile = path.join(tmp, 'c.json');
  const k = 4;
  const compare = runCli(
    ['compare', '--analysis', analysisFile, '--run', run, '--k', String(k), '--bootstrap', '0', '--json', cmpFile],
    { env },
  );
  assert.equal(compare.code, 0, compare.stderr);
  assert.match(compare.stdout, /Spearman/);
  assert.match(compare.stdout, /pairwise predictions came true/);
  const report = JSON.parse(fs.readFileSync(cmpFile, 'utf8')) as ComparisonReport;
  assert.deepEqual([...report.run_groups].sort(), [...BEHAVIOURS].sort());

  // Every observed number is recomputed here from metrics.jsonl.
  const lines = fs
    .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  for (const g of report.groups) {
    const train = lines.filter((l) => l.split === 'train' && l.group === g.group).sort((a, b) => a.step - b.step);
    assert.equal(train.length, 8);
    assert.equal(g.observed.loss_after_k, train.filter((l) => l.step <= k).at(-1)!.loss);
    assert.equal(g.observed.steps_to_90_train, train.find((l) => l['policy/accuracies'] >= 0.9)?.step ?? null);
    let area = 0;
    for (let i = 1; i < train.length; i++)
      area += ((train[i]!.loss + train[i - 1]!.loss) / 2) * (train[i]!.step - train[i - 1]!.step);
    assert.ok(Math.abs(g.observed.loss_area! - area / (train.at(-1)!.step - train[0]!.step)) < 1e-12);
  }
  // With two groups, Spearman and Kendall are +1 when the larger predictor goes with the lower loss, -1 otherwise.
  const [x, y] = report.groups;
  for (const c of report.correlations.filter((c) => c.measure === 'loss_area')) {
    const score = (g: typeof x) => g![c.predictor]!;
    const agree = Math.sign((score(x) - score(y)) * (y!.observed.loss_area! - x!.observed.loss_area!));
    assert.equal(c.spearman, agree);
    assert.equal(c.kendall_tau_b, agree);
  }
  // The one priority pair: came true exactly when its predicted-first group had the lower mean loss.
  const p = report.priority.find((q) => q.measure === 'loss_area')!;
  assert.equal(p.pairs.length, 1);
  const byName = new Map(report.groups.map((g) => [g.group, g]));
  const pair = p.pairs[0]!;
  assert.equal(
    pair.came_true,
    byName.get(pair.first)!.observed.loss_area! < byName.get(pair.second)!.observed.loss_area!,
  );
  assert.equal(p.hits, pair.came_true ? 1 : 0);
  assert.match(compare.stdout, new RegExp(`priority by loss_area: ${p.hits} of 1 pairwise predictions came true`));
});
