// `prefdyn compare` on a hand-made analysis (contract 5) and synthetic run folders (contract 4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { initialMarginSlope, meanLossArea, stepsToAccuracy } from '../src/analysis/observed-speed.js';
import { tempDir } from './helpers/temp.js';
import { predictorSpec } from '../src/report/figure-specs.js';

let dir = '';

/** Orthogonal mean gaps of lengths 3, 1, 2 (a, b, c), balanced groups of 100: c_b = d_b / 2. */
const analysis = {
  groups: [
    { group: 'a', n_pos: 50, n_neg: 50, delta: 3, delta_over_sqrt_concentration: 2, fisher: 4 },
    { group: 'b', n_pos: 50, n_neg: 50, delta: 1, delta_over_sqrt_concentration: 0.5, fisher: 1 },
    { group: 'c', n_pos: 50, n_neg: 50, delta: 2, delta_over_sqrt_concentration: 1, fisher: 2 },
  ],
  gram: {
    groups: ['a', 'b', 'c'],
    dd: [
      [9, 0, 0],
      [0, 1, 0],
      [0, 0, 4],
    ],
    cc: [
      [2.25, 0, 0],
      [0, 0.25, 0],
      [0, 0, 1],
    ],
  },
};

/** A run where group g learns at rates[g]: accuracy 0.5 + rate t / 40, loss ln2 exp(-rate t / 10), margin rate t / 100. */
function writeRun(name: string, rates: Record<string, number>): string {
  const run = path.join(dir, name);
  fs.mkdirSync(run, { recursive: true });
  fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({ mode: 'last-layer', beta: 0.01, lr: 0.1 }));
  fs.writeFileSync(path.join(run, 'summary.json'), JSON.stringify({ steps: 30 }));
  const lines: string[] = [];
  for (let step = 0; step <= 30; step++) {
    for (const split of step % 5 === 0 ? ['train', 'test'] : ['train']) {
      for (const [group, rate] of [...Object.entries(rates), ['all', 2] as const]) {
        const acc = Math.min(1, 0.5 + (rate * step) / 40);
        const loss = Math.LN2 * Math.exp((-rate * step) / 10);
        lines.push(
          JSON.stringify({
            step,
            epoch: 0,
            split,
            group,
            loss,
            'rewards/chosen': 0,
            'rewards/rejected': 0,
            'rewards/margins': (rate * step) / 100,
            'rewards/accuracies': acc,
            'policy/accuracies': acc,
            'logps/chosen': -1,
            'logps/rejected': -1,
            'weights/unembed_delta_norm': step * 0.01,
          }),
        );
      }
    }
  }
  fs.writeFileSync(path.join(run, 'metrics.jsonl'), lines.join('\n') + '\n');
  return run;
}

before(() => {
  dir = tempDir('prefdyn-compare-');
  fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(analysis));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('observed speed measures on hand-made curves', () => {
  const pts = [0, 1, 2, 3].map((step) => ({
    step,
    loss: 1 - step * 0.2,
    policyAccuracy: [0.5, 0.8, 0.95, 1][step]!,
    margin: 2 * step + 1,
  }));
  assert.equal(stepsToAccuracy(pts), 2);
  assert.equal(stepsToAccuracy(pts, 1.01), null);
  assert.ok(Math.abs(meanLossArea(pts)! - 0.7) < 1e-12); // linear from 1 to 0.4: mean 0.7
  assert.equal(initialMarginSlope(pts, 2), 2);
});

test('compare: a run that learns in the predicted order gives rho = tau = 1 and every priority pair true', () => {
  const run = writeRun('agree', { a: 3, b: 1, c: 2 });
  const json = path.join(dir, 'cmp.json');
  const res = runCli([
    'compare',
    '--analysis',
    path.join(dir, 'a.json'),
    '--run',
    run,
    '--bootstrap',
    '200',
    '--json',
    json,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.deepEqual(report.run_groups, ['a', 'b', 'c']);
  // Velocities for the run's mix (equal shares): ||d_b||^2 / 12.
  assert.deepEqual(
    report.groups.map((g: { margin_velocity: number }) => g.margin_velocity),
    [0.75, 0.25 / 3, 1 / 3],
  );
  const train = report.groups.map((g: { observed: Record<string, number> }) => g.observed.steps_to_90_train);
  assert.deepEqual(train, [6, 16, 8]);
  // Every predictor the analysis holds is correlated, and figure 2 draws one row of panels per predictor.
  assert.deepEqual(
    [...new Set(report.correlations.map((c: { predictor: string }) => c.predictor))],
    ['margin_velocity', 'delta', 'delta_over_sqrt_concentration', 'fisher'],
  );
  const rows = (predictorSpec(report, { name: 'p', title: 'p' }).spec as { vconcat: { hconcat: unknown[] }[] }).vconcat;
  assert.equal(rows.length, 4);
  for (const c of report.correlations) {
    if (c.measure === 'steps_to_90_test') {
      // Evaluated every 5 steps: a and c both reach 90% at step 10, a tie. Ranks of speed [2.5, 1, 2.5]
      // against [3, 1, 2]: rho = 1.5/sqrt(2 * 1.5); tau-b = 2 / sqrt(3 * 2).
      assert.ok(Math.abs(c.spearman - Math.sqrt(0.75)) < 1e-12);
      assert.ok(Math.abs(c.kendall_tau_b - 2 / Math.sqrt(6)) < 1e-12);
    } else if (c.measure === 'final_test_accuracy') {
      // Every group ends at accuracy 1: no spread, no correlation, no verdict.
      assert.ok(Number.isNaN(c.spearman ?? NaN));
      assert.equal(c.decision, 'undecided');
    } else {
      assert.equal(c.spearman, 1, `${c.predictor} ${c.measure}`);
      assert.equal(c.kendall_tau_b, 1);
    }
  }
  for (const p of report.priority)
    assert.deepEqual(
      [p.hits, p.decided],
      p.measure === 'steps_to_90_test' ? [2, 2] : p.measure === 'final_test_accuracy' ? [0, 0] : [3, 3],
    );
  assert.match(
    res.stdout,
    /priority by steps_to_90_train: 3 of 3 pairwise predictions came true \(100%\), one-sided sign test p = 0\.13: undecided/,
  );
  assert.match(
    res.stdout,
    /margin_velocity vs loss_area \(3 groups\): Spearman 1\.00 \[1\.00, 1\.00\], one-sided p = 0\.17: undecided; the interval is degenerate/,
  );
  // A perfect order of 3 has exact permutation p = 1/3! and its resampled interval is [1, 1]: no verdict.
  const headline = report.correlations.find(
    (c: { predictor: string; measure: string }) => c.predictor === 'delta' && c.measure === 'loss_area',
  );
  assert.equal(headline.p_value, 1 / 6);
  assert.equal(headline.p_method, 'exact permutation (6 pairings)');
  assert.deepEqual([headline.interval_degenerate, headline.decision], [true, 'undecided']);
});

test('compare: a reversed run contradicts the prediction', () => {
  const run = writeRun('reverse', { a: 1, b: 3, c: 2, d: 2 });
  const json = path.join(dir, 'new', 'folders', 'rev.json'); // missing folders are created
  const res = runCli(['compare', '--analysis', path.join(dir, 'a.json'), '--run', run, '--json', json]);
  assert.equal(res.code, 0, res.stderr);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  const loss = report.correlations.find(
    (c: { predictor: string; measure: string }) => c.predictor === 'margin_velocity' && c.measure === 'loss_area',
  );
  assert.equal(loss.spearman, -1);
  assert.equal(loss.kendall_tau_b, -1);
  assert.deepEqual(
    report.priority.map((p: { hits: number }) => p.hits),
    [0, 0, 0, 0, 0, 0, 0],
  );
  assert.equal(loss.p_value, 1);
  // Three groups in reverse order: the other direction's exact p is 1/3! = 1/6, not below 0.05.
  assert.equal(loss.p_value_other_direction, 1 / 6);
  assert.equal(report.notes[0], '1 group(s) of the run are not in the analysis and are left out: d');
  assert.match(report.notes[1], /^Verdicts: one-sided tests in the predicted direction, decided before any run/);
});

test('compare: bad inputs are one-line errors naming the file', () => {
  const noRun = runCli(['compare', '--analysis', path.join(dir, 'a.json'), '--run', path.join(dir, 'nope')]);
  assert.equal(noRun.code, 1);
  assert.equal(noRun.stderr, `prefdyn: ${path.join(dir, 'nope')}: no such run folder\n`);

  const run = writeRun('broken', { a: 1, b: 2 });
  const metrics = path.join(run, 'metrics.jsonl');
  fs.appendFileSync(
    metrics,
    JSON.stringify({ step: 31, split: 'valid', group: 'a', loss: 0.1, 'policy/accuracies': 1, 'rewards/margins': 1 }) +
      '\n',
  );
  const lineNo = fs.readFileSync(metrics, 'utf8').trim().split('\n').length;
  const bad = runCli(['compare', '--analysis', path.join(dir, 'a.json'), '--run', run]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, `prefdyn: ${metrics}:${lineNo}: "split" must be "train" or "test", got "valid"\n`);

  fs.writeFileSync(
    path.join(dir, 'notanalysis.json'),
    JSON.stringify({ groups: [{ group: 'a', n_pos: 1, n_neg: 1 }] }),
  );
  const notAnalysis = runCli([
    'compare',
    '--analysis',
    path.join(dir, 'notanalysis.json'),
    '--run',
    writeRun('ok2', { a: 1, b: 2 }),
  ]);
  assert.equal(notAnalysis.code, 1);
  assert.equal(
    notAnalysis.stderr,
    `prefdyn: ${path.join(dir, 'notanalysis.json')}: groups[0].delta must be a number\n`,
  );
});
