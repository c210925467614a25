// Figure specs, SVG rendering, short names and the 2-D projections of `prefdyn report`.
import { tempDir } from './helpers/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readRunMetrics } from '../src/analysis/run-metrics.js';
import type { MetricPoint, RunSeries } from '../src/analysis/run-metrics.js';
import { curvesSpec, priorityHeatmapSpec, weightNormsSpec } from '../src/report/figure-specs.js';
import { shortName, shortNames } from '../src/report/short-names.js';
import { svgOf, withHoverTitles } from '../src/report/render.js';
import { pca2, umap2 } from '../src/report/projection.js';
import { inlineSvg } from '../src/report/report-html.js';
import { Rng } from '../src/util/rng.js';

const LONG = 'willingness-to-use-social-engineering-to-achieve-its-goals';

function fixtureSeries(): RunSeries {
  const curve = (loss0: number, rate: number): MetricPoint[] =>
    [0, 1, 2].map((step) => ({
      step,
      loss: loss0 - rate * step,
      policyAccuracy: 0.5 + rate * step,
      margin: 2 * rate * step,
      rewardAccuracy: 0.25 * step,
      weights: { 'weights/unembed_delta_norm': 0.125 * step },
    }));
  return new Map([
    [
      'train',
      new Map([
        ['slow', curve(0.6931, 0.01)],
        [LONG, curve(0.6931, 0.125)],
        ['all', curve(0.6931, 0.0675)],
      ]),
    ],
    ['test', new Map([['slow', curve(0.7, 0.03125)]])],
  ]);
}

type Row = Record<string, unknown>;
const valuesOf = (spec: unknown): Row[] => (spec as { data: { values: Row[] } }).data.values;

test('the curves figure holds every point of the run, its panels, and is ordered and labelled by Delta', () => {
  const delta = new Map([
    ['slow', 0.5],
    [LONG, 2.25],
  ]);
  const f = curvesSpec(fixtureSeries(), { name: 'run-curves', title: 'Curves', delta });
  const rows = valuesOf(f.spec);
  const at = (panel: string, group: string, step: number) =>
    rows.find((r) => r.panel === panel && r.group === group && r.step === step)?.value;
  assert.equal(at('train loss (nats)', LONG, 2), 0.6931 - 0.25);
  assert.equal(at('test loss (nats)', 'slow', 1), 0.7 - 0.03125);
  assert.equal(at('train reward margin (beta x log-ratio, nats)', LONG, 1), 0.25);
  assert.equal(at('train reward accuracy (share of pairs)', 'slow', 2), 0.5);
  assert.equal(at('train policy accuracy (share of pairs)', 'slow', 2), 0.52);
  assert.equal(at('test loss (nats)', LONG, 0), undefined, 'no test points for a group without any');
  assert.ok(!rows.some((r) => r.group === 'all'), 'the aggregate is not a behaviour');
  // 2 groups x 3 steps x 4 train panels + 1 group x 3 steps x 2 test panels.
  assert.equal(rows.length, 30);
  const label = rows.find((r) => r.group === LONG)!.label;
  assert.equal(label, 'willingness-to-use…goals (Delta 2.250)');
  const colour = JSON.stringify(f.spec).match(/"sort":\["([^"]*)","([^"]*)"\]/)!;
  assert.deepEqual(colour.slice(1), [label, 'slow (Delta 0.500)'], 'colour order is by decreasing Delta');
});

test('the weight-norm figure reads the "all" lines; none without weights/* keys', () => {
  const f = weightNormsSpec(fixtureSeries(), { name: 'w', title: 'W' })!;
  assert.deepEqual(
    valuesOf(f.spec).map((r) => [r.step, r.value, r.weight]),
    [0, 1, 2].map((s) => [s, 0.125 * s, 'unembedding (lm_head)']),
  );
  const bare: RunSeries = new Map([
    ['train', new Map([['a', [{ step: 0, loss: 1, policyAccuracy: 0.5, margin: 0 }]]])],
    ['test', new Map()],
  ]);
  assert.equal(weightNormsSpec(bare, { name: 'w', title: 'W' }), null);
});

test('the priority heatmap holds the gap of every ordered pair and marks the checked pairs', () => {
  const f = priorityHeatmapSpec(
    {
      groups: ['a', 'b', 'c'],
      gap: [
        [0, 0.5, -0.25],
        [-0.5, 0, 0.125],
        [0.25, -0.125, 0],
      ],
    },
    {
      name: 'p',
      title: 'P',
      checks: [
        { first: 'a', second: 'b', came_true: true },
        { first: 'c', second: 'a', came_true: false },
        { first: 'b', second: 'c', came_true: null },
      ],
    },
  );
  const layers = (f.spec as { layer: { data: { values: Row[] } }[] }).layer;
  const cells = layers[0]!.data.values;
  assert.equal(cells.length, 6);
  assert.equal(cells.find((c) => c.row === 'c' && c.col === 'a')!.gap, 0.25);
  assert.equal(cells.find((c) => c.row === 'b' && c.col === 'c')!.gap, 0.125);
  assert.deepEqual(
    layers[1]!.data.values.map((m) => [m.row, m.col, m.mark]),
    [
      ['a', 'b', '\u2713'],
      ['c', 'a', '\u2717'],
    ],
  );
});

test('long behaviour names are shortened to the head and the last word, uniquely', () => {
  assert.equal(shortName('subscribes-to-Buddhism'), 'subscribes-to-Buddhism');
  assert.equal(shortName(LONG), 'willingness-to-use…goals');
  assert.ok(shortName(LONG).length <= 30);
  assert.equal(shortName('subscribes-to-average-utilitarianism'), 'subscribes-to-average…');
  const twins = shortNames(['a-very-long-name-that-ends-in-x-one', 'a-very-long-name-that-ends-in-y-one'], 20);
  assert.deepEqual([...twins.values()], ['a-very-long-name…one', 'a-very-long-name…one (2)']);
});

test('marks with a description get an SVG <title> (hover text); the rendered figure carries the full name', async () => {
  assert.equal(
    withHoverTitles('<g><path aria-label="x &amp; y" d="M0,0"/><path d="M1,1"/></g>'),
    '<g><path aria-label="x &amp; y" d="M0,0"><title>x &amp; y</title></path><path d="M1,1"/></g>',
  );
  const svg = await svgOf(curvesSpec(fixtureSeries(), { name: 'c', title: 'C' }).spec);
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 40));
  assert.ok(svg.includes(`<title>${LONG}</title>`));
  assert.ok(!/https?:/.test(inlineSvg(svg)), 'inline SVG keeps no namespace URL');
});

/** Two clusters of 30 rows in d = 5, apart along axis 0. */
function cloud(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: 60 * 5 }, (_, k) => rng.normal() * 0.1 + (k % 5 === 0 && k < 150 ? 3 : 0));
}

test('UMAP: the same seed gives the same coordinates, another seed others', () => {
  const x = cloud(7);
  const a = umap2(x, 60, 5, 42);
  const b = umap2(x, 60, 5, 42);
  assert.deepEqual([...a.x, ...a.y], [...b.x, ...b.y]);
  const c = umap2(x, 60, 5, 43);
  assert.notDeepEqual([...a.x], [...c.x]);
  assert.ok(a.x.every(Number.isFinite) && a.y.every(Number.isFinite));
});

test('PCA: points on a line project onto it exactly, the second axis to ~0', () => {
  // Rows t * (3, 4, 0) / 5 + (1, 1, 1), t = -2..2: first principal coordinate = t (up to sign), second = 0.
  const ts = [-2, -1, 0, 1, 2];
  const x = Float32Array.from(ts.flatMap((t) => [1 + (3 * t) / 5, 1 + (4 * t) / 5, 1]));
  const p = pca2(x, 5, 3, 1);
  const sign = Math.sign(p.x[4]!);
  // float32 inputs: each coordinate carries ~1e-7 relative rounding of values of size ~2.
  ts.forEach((t, i) => assert.ok(Math.abs(p.x[i]! * sign - t) < 1e-6, `${p.x[i]} vs ${t}`));
  for (const y of p.y) assert.ok(Math.abs(y) < 1e-6, `second coordinate ${y}`);
});

const tmp = tempDir('prefdyn-report-unit-');

test('run metrics keep reward accuracy and every weights/* norm; a non-number there names file and line', () => {
  const line = (extra: Record<string, unknown>) =>
    JSON.stringify({
      step: 0,
      split: 'train',
      group: 'a',
      loss: 0.5,
      'policy/accuracies': 1,
      'rewards/margins': 0,
      ...extra,
    });
  const run = path.join(tmp, 'run');
  fs.mkdirSync(run);
  const file = path.join(run, 'metrics.jsonl');
  fs.writeFileSync(
    file,
    [
      line({ 'rewards/accuracies': 0.75, 'weights/unembed_delta_norm': 0.5, 'weights/delta_norm/layers.0': 2 }),
      line({}),
    ].join('\n'),
  );
  const [withKeys, without] = readRunMetrics(run).get('train')!.get('a')!;
  assert.equal(withKeys!.rewardAccuracy, 0.75);
  assert.deepEqual(withKeys!.weights, { 'weights/unembed_delta_norm': 0.5, 'weights/delta_norm/layers.0': 2 });
  assert.equal(without!.rewardAccuracy, undefined);
  assert.equal(without!.weights, undefined);
  fs.writeFileSync(file, [line({}), line({ 'weights/unembed_delta_norm': null })].join('\n'));
  assert.throws(() => readRunMetrics(run), {
    name: 'UserError',
    message: `${file}:2: "weights/unembed_delta_norm" must be a finite number, got null`,
  });
});
