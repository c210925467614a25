// The experiments of `prefdyn reproduce`: their pure parts on hand-made inputs, then the command end
// to end on a tiny model with a tiny profile (--pairs, --steps): structure, determinism, errors.
import { provenance } from '../src/tensor/kernels/provenance.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import type { AnalysisReport } from '../src/analysis/analysis-report.js';
import { compareRun } from '../src/analysis/compare-run.js';
import type { MetricPoint, RunSeries } from '../src/analysis/run-metrics.js';
import { PAPER_BEHAVIOURS, prioritisationPairs } from '../src/experiments/behaviours.js';
import { fmt } from '../src/experiments/findings.js';
import { lastLayerLr } from '../src/experiments/last-layer-lr.js';
import { accuracyRose } from '../src/experiments/misalignment.js';
import { fitBatches, profileFor } from '../src/experiments/profile.js';
import type { ReproduceSummary } from '../src/experiments/reproduce-summary.js';
import { independentRunsInput } from '../src/experiments/single-behaviours.js';
import { spearman } from '../src/analysis/rank-correlation.js';
import { tempDir } from './helpers/temp.js';

let tmp = '';
let model = '';
const env = (): NodeJS.ProcessEnv => ({ PREFDYN_CACHE_DIR: path.join(tmp, 'cache') });

before(() => {
  tmp = tempDir('prefdyn-reproduce-');
  model = path.join(tmp, 'tiny');
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
    '2',
  ]);
  assert.equal(init.code, 0, init.stderr);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the alignment moved the model when its held-out accuracy rose by the gain exactly, not by less', () => {
  // 55 -> 75 of 100 held-out pairs (prefdyn-small's full run): 0.75 - 0.55 is 0.19999999999999996 in floating
  // point, a rise of 0.2.
  assert.ok(0.75 - 0.55 < 0.2);
  assert.equal(accuracyRose(0.55, 0.75, 0.2), true);
  assert.equal(accuracyRose(0.51, 0.78, 0.2), true);
  assert.equal(accuracyRose(0.55, 0.7, 0.2), false);
  assert.equal(accuracyRose(0.55, 0.749, 0.2), false);
  assert.equal(accuracyRose(0.75, 0.55, 0.2), false);
});

test("independent runs: compareRun predicts each behaviour's solo velocity cc[b][b], whatever the group sizes", () => {
  // Three groups of 100, 300 and 600 pairs; cross terms that would reorder a joint mix.
  const cc = [
    [1, 5, 0],
    [5, 2, 0],
    [0, 0, 3],
  ];
  const analysis = {
    groups: [
      { group: 'a', n_pos: 50, n_neg: 50, delta: 1 },
      { group: 'b', n_pos: 150, n_neg: 150, delta: 2 },
      { group: 'c', n_pos: 300, n_neg: 300, delta: 3 },
    ],
    gram: {
      groups: ['a', 'b', 'c'],
      dd: [
        [1, 0.5, 0],
        [0.5, 4, 0],
        [0, 0, 9],
      ],
      cc,
    },
  } as unknown as AnalysisReport;
  const curve = (rate: number): MetricPoint[] =>
    [0, 1, 2].map((step) => ({ step, loss: 1 - rate * step, policyAccuracy: 0.5, margin: rate * step }));
  const series: RunSeries = new Map([
    [
      'train',
      new Map([
        ['a', curve(0.1)],
        ['b', curve(0.2)],
        ['c', curve(0.3)],
      ]),
    ],
    ['test', new Map()],
  ]);
  const report = compareRun(independentRunsInput(analysis), series, { k: 1, bootstrap: 0, seed: 1 });
  assert.deepEqual(
    report.groups.map((g) => [g.group, g.margin_velocity]),
    [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ],
  );
  const rho = report.correlations.find((c) => c.predictor === 'margin_velocity' && c.measure === 'loss_area')!;
  assert.equal(rho.spearman, 1);
  // Trained together (shares 0.1, 0.3, 0.6) the cross terms count: a = 1(0.1) + 5(0.3) = 1.6, b = 5(0.1) + 2(0.3) = 1.1, c = 3(0.6) = 1.8.
  const joint = compareRun(analysis, series, { k: 1, bootstrap: 0, seed: 1 });
  joint.groups.forEach((g, i) => assert.ok(Math.abs(g.margin_velocity - [1.6, 1.1, 1.8][i]!) < 1e-12, g.group));
  // A run on a subset (prioritisation's unequal pairs) gives its own counts: shares 0.6, 0.3, 0.1 make
  // a = 1(0.6) + 5(0.3) = 2.1, b = 5(0.6) + 2(0.3) = 3.6, c = 3(0.1) = 0.3.
  const counts = new Map([
    ['a', 600],
    ['b', 300],
    ['c', 100],
  ]);
  const subset = compareRun(analysis, series, { k: 1, bootstrap: 0, seed: 1, counts });
  subset.groups.forEach((g, i) => assert.ok(Math.abs(g.margin_velocity - [2.1, 3.6, 0.3][i]!) < 1e-12, g.group));
});

test('prioritisation pairs: the closest, median and farthest Delta gaps, then two with unequal sizes', () => {
  // Gaps sorted: d-e 0.1, a-b 0.5, b-c 1.5, a-c 2, c-d 2 (a tie keeps the order), c-e 2.1, b-d 3.5,
  // b-e 3.6, a-d 4, a-e 4.1.
  const deltas = new Map([
    ['a', 5],
    ['b', 4.5],
    ['c', 3],
    ['d', 1],
    ['e', 0.9],
  ]);
  assert.deepEqual(prioritisationPairs(deltas), [
    { groups: ['d', 'e'], kind: 'close' },
    { groups: ['a', 'b'], kind: 'close' },
    { groups: ['c', 'd'], kind: 'middle' },
    { groups: ['c', 'e'], kind: 'middle' },
    { groups: ['a', 'd'], kind: 'far' },
    { groups: ['a', 'e'], kind: 'far' },
    { groups: ['d', 'e'], kind: 'unequal' },
    { groups: ['a', 'e'], kind: 'unequal' },
  ]);
  // The higher Delta comes first whatever the input order; two behaviours give one pair of each use.
  assert.deepEqual(
    prioritisationPairs(
      new Map([
        ['x', 1],
        ['y', 2],
      ]),
    ),
    [
      { groups: ['y', 'x'], kind: 'close' },
      { groups: ['y', 'x'], kind: 'unequal' },
    ],
  );
  assert.throws(() => prioritisationPairs(new Map([['a', 1]])), /at least 2 behaviours, got 1/);
});

test('last-layer lr = scale / (beta^2 E||g||^2), three significant digits; batches fit the smallest split', () => {
  assert.equal(lastLayerLr(0.01, 248.2, 1), 40.3);
  assert.equal(lastLayerLr(0.1, 64, 0.5), 0.781);
  assert.throws(() => lastLayerLr(0.01, 0, 1), /zero norm/);
  const p = fitBatches(profileFor('quick'), 27);
  assert.equal(p.lastLayer.batchSize, 27);
  assert.deepEqual(
    [p.lora.microBatch, p.loraAlone.effectiveBatch, p.align.effectiveBatch, p.flip.effectiveBatch],
    [8, 24, 24, 24],
  );
  // 5 training pairs: the micro-batch shrinks to 5 and every effective batch to one micro-batch.
  const five = fitBatches(profileFor('full'), 5);
  assert.deepEqual([five.lora.microBatch, five.loraAlone.effectiveBatch, five.align.effectiveBatch], [5, 5, 5]);
  assert.deepEqual(fitBatches(profileFor('quick'), 900), profileFor('quick'));
  const s = profileFor('full', { steps: 2, pairsPerBehaviour: 30 });
  assert.deepEqual(
    [s.lastLayer.steps, s.loraAlone.steps, s.flip.steps, s.lastLayer.evalEvery, s.lora.evalEvery, s.pairsPerBehaviour],
    [2, 2, 2, 2, 2, 30],
  );
  // The alignment keeps its epochs and its ladder of multiples of the paper's lr.
  assert.deepEqual([s.align.epochs, s.align.paperLr, s.align.multiples], [1, 1e-5, [1, 10, 100, 1000, 10000]]);
});

/** Six behaviours (the five and one drawn), two seeds, both modes: the smallest protocol that exercises all. */
const smallProtocol = () => {
  const file = path.join(tmp, 'protocol.yaml');
  fs.writeFileSync(file, 'random_behaviours: 1\nseeds: [7, 8]\nmodes: [last-layer, lora]\n');
  return file;
};

const reproduceArgs = (out: string, seed = '7') => [
  'reproduce',
  '--model',
  model,
  '--out',
  out,
  '--quick',
  '--protocol',
  smallProtocol(),
  '--pairs',
  '30',
  '--steps',
  '3',
  '--seed',
  seed,
];

test('reproduce with a tiny profile: summary.json and REPORT.md, the same for the same seed', () => {
  const outs = ['r1', 'r2'].map((n) => path.join(tmp, n));
  const results = outs.map((out) => runCli(reproduceArgs(out), { env: env() }));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const text = outs.map((out) => fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(
    text[1],
    text[0],
    'same model, seed and profile: identical summary.json (the second run read the caches)',
  );
  assert.equal(
    fs.readFileSync(path.join(outs[1]!, 'REPORT.md'), 'utf8'),
    fs.readFileSync(path.join(outs[0]!, 'REPORT.md'), 'utf8'),
  );
  // The figures beside REPORT.md (prefdyn report), linked from it; the embedding clouds need the
  // aligned behaviour's embeddings before and after, which reproduce keeps.
  const figures = ['curves', 'predictors', 'priority', 'pairs', 'flip', 'delta-change', 'clouds', 'weights'];
  const md = fs.readFileSync(path.join(outs[0]!, 'REPORT.md'), 'utf8');
  const html = fs.readFileSync(path.join(outs[0]!, 'report.html'), 'utf8');
  for (const f of figures) {
    assert.ok(md.includes(`](figures/reproduce-${f}.png)`), `REPORT.md shows ${f}`);
    assert.ok(fs.existsSync(path.join(outs[0]!, 'figures', `reproduce-${f}.svg`)), `${f}.svg`);
    assert.ok(html.includes(`<figure id="reproduce-${f}">`), `report.html holds ${f}`);
  }
  assert.match(results[0]!.stdout, new RegExp(`figures: ${path.join(outs[0]!, 'report.html')}\\n$`));

  const s = JSON.parse(text[0]!) as ReproduceSummary;
  assert.equal(s.seed, 7);
  assert.deepEqual(s.provenance, provenance(), 'what computed the numbers: version, kernels, BLAS, threads, node');
  assert.equal(s.profile.pairsPerBehaviour, 30);
  const behaviours = s.protocol.behaviours;
  assert.equal(behaviours.length, 6);
  assert.deepEqual(behaviours.slice(0, 5), [...PAPER_BEHAVIOURS]);
  assert.deepEqual(s.protocol.seeds, [7, 8]);
  assert.deepEqual(
    s.data.pairs,
    behaviours.map((group) => ({ group, pairs: 30 })),
  );
  // (a): the protocol's behaviours sorted by decreasing Delta, each with a run folder of contract 4 per
  // mode and seed.
  assert.deepEqual([...s.single.behaviours.map((b) => b.group)].sort(), [...behaviours].sort());
  const deltas = s.single.behaviours.map((b) => b.delta);
  assert.deepEqual(
    deltas,
    [...deltas].sort((x, y) => y - x),
  );
  assert.deepEqual(
    s.single.behaviours.map((b) => b.rank_by_delta),
    [1, 2, 3, 4, 5, 6],
  );
  for (const b of s.single.behaviours) {
    for (const mode of ['last-layer', 'lora'])
      for (const seed of [7, 8])
        for (const f of ['config.json', 'metrics.jsonl', 'summary.json'])
          assert.ok(
            fs.existsSync(path.join(outs[0]!, 'single', mode, `seed-${seed}`, b.group, f)),
            `${mode} ${seed} ${f}`,
          );
    assert.equal(b.run, path.join('single', 'lora', 'seed-7', b.group));
    assert.equal(b.n_pairs, 30);
  }
  // Delta at the official position by default; the other position analysed, their rank agreement reported.
  assert.equal(s.embedding_position, 'question');
  assert.equal(s.single.embedding_position, 'question');
  const agreement = s.single.position_agreement;
  assert.deepEqual(agreement.positions, ['question', 'newline']);
  const newline = JSON.parse(fs.readFileSync(path.join(outs[0]!, agreement.analysis), 'utf8')) as AnalysisReport;
  assert.equal(newline.settings.embedding_position, 'newline');
  const single = JSON.parse(fs.readFileSync(path.join(outs[0]!, s.single.analysis), 'utf8')) as AnalysisReport;
  assert.equal(single.settings.embedding_position, 'question');
  for (const r of agreement.delta) {
    assert.equal(r.values[0], s.single.behaviours.find((b) => b.group === r.group)!.delta);
    assert.equal(r.values[1], newline.groups.find((g) => g.group === r.group)!.delta);
  }
  assert.equal(
    agreement.spearman,
    spearman(
      agreement.delta.map((r) => r.values[0]),
      agreement.delta.map((r) => r.values[1]),
    ),
  );
  assert.ok(
    md.includes(`the Spearman rank agreement of Delta over the 6 behaviours is ${agreement.spearman.toFixed(2)}`),
  );
  assert.equal(s.single.correlations.length, 28); // 4 predictors x 7 measures
  assert.equal(s.single.tests.length, 2 * 4 * 4); // modes x predictors x protocol measures
  for (const t of s.single.tests) {
    assert.equal(t.per_seed.length, 2);
    assert.equal(t.p_method, 'exact permutation (720 pairings)');
    assert.ok(['supported', 'not supported', 'undecided'].includes(t.decision));
    assert.equal(t.note !== undefined, t.mode === 'last-layer' && t.measure === 'loss_area');
  }
  // With one seed the test's rho would be the seed's; with two it ranks the mean speed rank.
  assert.deepEqual(
    s.single.verdict_tests.map((t) => [t.mode, t.predictor, t.measure]),
    [
      ['lora', 'delta', 'final_test_loss'],
      ['lora', 'delta', 'final_test_accuracy'],
    ],
  );
  assert.deepEqual(s.single.headline, s.single.verdict_tests[0]);
  // (b): pairs by Delta gap, then unequal sizes; all six behaviours together.
  const deltaOf = new Map(s.single.behaviours.map((b) => [b.group, b.delta]));
  assert.deepEqual(
    s.prioritisation.pairs.map((p) => [p.kind, p.groups]),
    prioritisationPairs(deltaOf).map((p) => [p.kind, p.groups]),
  );
  assert.equal(s.prioritisation.pairs.length, 8);
  for (const p of s.prioritisation.pairs) {
    assert.equal(p.outcomes.length, 7);
    assert.deepEqual(p.pairs_per_group, p.kind === 'unequal' ? [8, 30] : [30, 30]);
  }
  assert.equal(s.prioritisation.pair_tests.length, 4 * 2);
  assert.equal(s.prioritisation.mix.n_behaviours, 6);
  assert.deepEqual(
    s.prioritisation.mix.verdict_tests.map((t) => [t.predictor, t.measure]),
    [
      ['margin_velocity', 'final_test_loss'],
      ['margin_velocity', 'final_test_accuracy'],
    ],
  );
  // (c): Delta before equals (a)'s analysis; the merged model is a model folder.
  const before = new Map(s.single.behaviours.map((b) => [b.group, b.delta]));
  assert.equal(s.misalignment.delta.length, 6);
  for (const d of s.misalignment.delta) assert.equal(d.before, before.get(d.group));
  assert.equal(s.misalignment.delta[0]!.group, s.misalignment.behaviour);
  for (const d of s.misalignment.delta) assert.equal(d.fisher.length, 2);
  // Flips per protocol seed, and a paired test of aligned minus base per protocol measure.
  assert.deepEqual(
    s.misalignment.flip.seeds.map((r) => r.seed),
    [7, 8],
  );
  assert.deepEqual(s.misalignment.flip.from_aligned, s.misalignment.flip.seeds[0]!.from_aligned);
  assert.deepEqual(
    s.misalignment.tests.map((t) => [t.measure, t.differences.length]),
    [
      ['steps_to_90_test', 2],
      ['loss_area', 2],
      ['final_test_loss', 2],
      ['final_test_accuracy', 2],
    ],
  );
  assert.ok(fs.existsSync(path.join(outs[0]!, s.misalignment.aligned_model, 'model.safetensors')));
  // The alignment: one epoch of the 27 training pairs at 24 a step (2 steps), at 1,000 x then 10,000 x
  // the paper's lr until the held-out policy accuracy rises by 0.2; it goes on with the first that moved
  // the model, else the last.
  const align = s.misalignment.align;
  assert.deepEqual([align.epochs, align.steps, align.effective_batch, align.paper_lr], [1, 2, 24, 1e-5]);
  assert.ok(align.attempts.length >= 1 && align.attempts.length <= 2);
  align.attempts.forEach((t, i) => {
    assert.equal(t.multiple, [1000, 10000][i]);
    assert.equal(t.lr, [0.01, 0.1][i]);
    assert.equal(t.moved, accuracyRose(t.base_policy_accuracy!, t.final_test!.policy_accuracy, 0.2));
    assert.equal(
      t.moved,
      i === align.attempts.length - 1 ? align.moved : false,
      'only the last attempt may have moved',
    );
    assert.ok(fs.existsSync(path.join(outs[0]!, t.run, 'metrics.jsonl')));
  });
  if (align.attempts.length === 1) assert.ok(align.moved, 'a second attempt only when the first did not move');
  assert.deepEqual(
    [align.multiple, align.lr, align.run],
    [align.attempts.at(-1)!.multiple, align.attempts.at(-1)!.lr, align.attempts.at(-1)!.run],
  );
  assert.deepEqual(
    s.findings.map((f) => ['supported', 'not supported', 'undecided'].includes(f.status)),
    [true, true, true],
  );
  // Every test in one shape: 2 modes x 4 predictors x 4 measures, the mix's 2 x 4, 4 x 2 sign tests, 4 flip tests.
  assert.deepEqual(
    [1, 2, 3].map((f) => s.tests.filter((t) => t.finding === f).length),
    [32, 16, 4],
  );
  for (const t of s.tests)
    assert.deepEqual(Object.keys(t), [
      'finding',
      'experiment',
      'mode',
      'n_behaviours',
      'seeds',
      'measure',
      'predictor',
      'statistic',
      'value',
      'p_value',
      'interval',
      'decision',
    ]);
  assert.ok(s.caveats.some((c) => c.includes('Only 30 pairs per behaviour')));
  const report = fs.readFileSync(path.join(outs[0]!, 'REPORT.md'), 'utf8');
  let at = -1;
  for (const h of [
    '## Protocol (fixed before any run)',
    `- Source: \`${smallProtocol()}\`.`,
    'Decision rule: one-sided tests in the predicted direction, decided before any run',
    '## Verdicts',
    '## (a) Single behaviours',
    '| lora | delta | final_test_loss |',
    '## (b) Prioritisation',
    '## (c) Misalignment',
    '## Caveats',
  ]) {
    assert.ok(report.indexOf(h) > at, `${h}, in order`);
    at = report.indexOf(h);
  }
  // Nothing of this machine in the summary: paths are relative to --out, or as given.
  assert.ok(!text[0]!.includes(outs[0]!), 'summary.json names no absolute output path');

  assert.match(results[0]!.stdout, /^\(a\) single behaviours \(6\), last-layer and lora DPO, seeds 7, 8:/);
  assert.match(results[0]!.stdout, /Findings of the paper:\n {2}1\. \[/);
  assert.match(results[0]!.stderr, /^\[c\] flipped desire-to-not-have-memory-erased from the base model/m);

  const other = runCli(reproduceArgs(path.join(tmp, 'r3'), '8'), { env: env() });
  assert.equal(other.code, 0, other.stderr);
  assert.notEqual(
    fs.readFileSync(path.join(tmp, 'r3', 'summary.json'), 'utf8'),
    text[0],
    'another seed draws other pairs',
  );

  // Two reproductions side by side: one row per pre-registered test, each cell from its own summary.
  const sides = path.join(tmp, 'sides');
  const shown = runCli(['report', outs[0]!, path.join(tmp, 'r3'), '--out', sides, '--figures', 'none'], { env: env() });
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(shown.stdout, `${path.join(sides, 'report.html')}\n${path.join(sides, 'side-by-side.md')}\n`);
  assert.ok(!fs.existsSync(path.join(outs[0]!, 'side-by-side.md')), 'one reproduction is not put side by side');
  const s3 = JSON.parse(fs.readFileSync(path.join(tmp, 'r3', 'summary.json'), 'utf8')) as ReproduceSummary;
  const sideBySide = fs.readFileSync(path.join(sides, 'side-by-side.md'), 'utf8');
  const rows = sideBySide.split('\n').filter((l) => /^\| [123] \| /.test(l));
  assert.equal(rows.length, s.tests.length);
  rows.forEach((row, i) => {
    const cells = row.slice(2, -2).split(' | ');
    const [t, t3] = [s.tests[i]!, s3.tests[i]!];
    assert.deepEqual(cells.slice(0, 6), [String(t.finding), t.experiment, t.mode, t.measure, t.predictor, t.statistic]);
    const over = (x: typeof t) =>
      `${x.n_behaviours} ${x.statistic === 'sign test' ? 'pair' : 'behaviour'}${x.n_behaviours === 1 ? '' : 's'}`;
    const rest = (x: typeof t) =>
      `p ${fmt(x.p_value, 3)}, ${x.decision} (${over(x)}, ${x.seeds.length} seed${x.seeds.length === 1 ? '' : 's'})`;
    assert.ok(cells[6]!.endsWith(rest(t)), cells[6]);
    assert.ok(cells[7]!.endsWith(rest(t3)), cells[7]);
  });
  s.findings.forEach((f, i) =>
    assert.ok(sideBySide.includes(`| ${i + 1}. ${f.claim} | ${f.status} | ${s3.findings[i]!.status} |`), f.claim),
  );
  assert.ok(fs.readFileSync(path.join(sides, 'report.html'), 'utf8').includes('<h2>Reproductions side by side</h2>'));
  // Columns are named by folder, so two reproductions of one model tell apart.
  assert.ok(sideBySide.includes(`|  | ${outs[0]} | ${path.join(tmp, 'r3')} |`));
  // A later report of one reproduction into the same folder leaves no stale side-by-side.md, but a
  // file of that name prefdyn did not write stays.
  const again = runCli(['report', outs[0]!, '--out', sides, '--figures', 'none'], { env: env() });
  assert.equal(again.code, 0, again.stderr);
  assert.ok(!fs.existsSync(path.join(sides, 'side-by-side.md')));
  fs.writeFileSync(path.join(sides, 'side-by-side.md'), 'my notes\n');
  assert.equal(runCli(['report', outs[0]!, '--out', sides, '--figures', 'none'], { env: env() }).code, 0);
  assert.equal(fs.readFileSync(path.join(sides, 'side-by-side.md'), 'utf8'), 'my notes\n');
});

test('reproduce refuses a folder it did not write, a missing model and bad numbers, before any work', () => {
  const foreign = path.join(tmp, 'foreign');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine\n');
  const cases: [string[], number, string][] = [
    [
      reproduceArgs(foreign),
      1,
      `prefdyn: --out ${foreign}: exists, is not empty and was not written by \`prefdyn reproduce\` (no .prefdyn-reproduce file); choose another --out\n`,
    ],
    [
      ['reproduce', '--model', path.join(tmp, 'nope'), '--out', path.join(tmp, 'x')],
      1,
      `prefdyn: ${path.join(tmp, 'nope')}: not a model folder (no config.json); give --model DIR, a Hugging Face folder with " Yes" and " No" as single tokens (e.g. one made by \`prefdyn model init\`)\n`,
    ],
    [['reproduce', '--model', model, '--steps', '0'], 1, 'prefdyn: --steps must be an integer >= 1, got "0"\n'],
    [['reproduce', '--model', model, '--pairs', 'ten'], 1, 'prefdyn: --pairs must be an integer >= 10, got "ten"\n'],
  ];
  for (const [args, code, stderr] of cases) {
    const r = runCli(args, { env: env() });
    assert.equal(r.stderr, stderr);
    assert.equal(r.code, code);
  }
  assert.deepEqual(fs.readdirSync(foreign), ['notes.txt']);
  assert.ok(!fs.existsSync(path.join(tmp, 'x')));
});
