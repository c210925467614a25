// Synthetic inputs of persona's size for timing `prefdyn report`: an analysis JSON of 135 behaviours
// (contract 5: groups, priority gap from random 16-dimensional d_b, Gram matrices) and a run folder whose
// metrics.jsonl has 135 groups + "all" over 101 steps (test every 10). Seeded: the same files every time.
//   node bench/report-inputs.mjs OUT_DIR   ->  OUT_DIR/analysis.json, OUT_DIR/run/metrics.jsonl
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../dist/src/util/rng.js';
import { priorityGapMatrix } from '../dist/src/analysis/priority.js';

const out = process.argv[2];
if (!out) throw new Error('usage: node bench/report-inputs.mjs OUT_DIR');
const B = 135;
const D = 16;
const rng = new Rng(1);
const groups = Array.from(
  { length: B },
  (_, i) => `behaviour-${String(i).padStart(3, '0')}-with-a-persona-length-name`,
);
const delta = groups.map(() => 0.3 + 2.2 * rng.uniform());
const vecs = delta.map((d) => {
  const v = Array.from({ length: D }, () => rng.normal());
  const n = Math.hypot(...v);
  return v.map((x) => (x * d) / n);
});
const dd = vecs.map((u) => vecs.map((v) => u.reduce((s, x, k) => s + x * v[k], 0)));
const cc = dd.map((row) => row.map((x) => 0.1 * x));
const order = groups.map((_, i) => i).sort((a, b) => delta[b] - delta[a]);
const gap = priorityGapMatrix(order.map((i) => order.map((j) => dd[i][j])));
const rows = order.map((i, r) => ({
  group: groups[i],
  n_pos: 500,
  n_neg: 500,
  delta: delta[i],
  delta_unbiased: delta[i],
  delta_ci: [delta[i] - 0.1, delta[i] + 0.1],
  concentration: 5,
  trace: 20,
  delta_over_sqrt_concentration: delta[i] / Math.sqrt(5),
  fisher: delta[i] ** 2,
  tail_alpha: 2.5,
  tail_K: 1,
  in_mix: true,
  mix_weight: 1 / B,
  shared_update: 0.1,
  margin_velocity: cc[i][i] / B,
  predicted_rank: r + 1,
  rank_ci: null,
  one_step_accuracy: 0.6,
  one_step_accuracy_bound: 0.5,
}));
fs.mkdirSync(path.join(out, 'run'), { recursive: true });
fs.writeFileSync(
  path.join(out, 'analysis.json'),
  JSON.stringify({
    version: 1,
    groups: rows,
    priority: { groups: order.map((i) => groups[i]), gap },
    gram: { groups, dd, cc },
  }),
);
const lines = [];
for (let step = 0; step <= 100; step++) {
  for (const split of step % 10 === 0 ? ['train', 'test'] : ['train']) {
    [...groups, 'all'].forEach((group, i) => {
      const d = i < B ? delta[i] : 1.4;
      const acc = Math.min(1, 0.5 + (0.2 * d * step) / 100 + 0.02 * rng.normal());
      lines.push(
        JSON.stringify({
          step,
          epoch: 0,
          split,
          group,
          loss: Math.LN2 * Math.exp(-0.004 * d * step) + 0.005 * rng.normal(),
          'rewards/margins': 0.01 * d * step,
          'rewards/accuracies': acc,
          'policy/accuracies': acc,
          'weights/unembed_delta_norm': 0.01 * step,
        }),
      );
    });
  }
}
fs.writeFileSync(path.join(out, 'run', 'metrics.jsonl'), lines.join('\n') + '\n');
