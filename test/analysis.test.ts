// Distinguishability math on synthetic clusters with known means and covariances (theory.md s.3-4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/util/rng.js';
import { analyzeEmbeddings } from '../src/analysis/analyze.js';
import { memorySource, type RowInfo } from '../src/analysis/embeddings-file.js';
import { groupStats } from '../src/analysis/group-stats.js';
import {
  largestEigenvalueTridiagonal,
  symmetricGram,
  topEigenvalueOfGram,
  topEigenvalueViaExplicitGram,
  topEigenvalueViaImplicitGram,
} from '../src/analysis/side-moments.js';
import { fitTail } from '../src/analysis/tail-fit.js';
import { priorityGapMatrix } from '../src/analysis/priority.js';
import { kendallTauB, spearman, averageRanks } from '../src/analysis/rank-correlation.js';
import { oneStepAccuracy } from '../src/analysis/one-step.js';
import { bootstrapGroup, centredInterval95, interval95, quantile } from '../src/analysis/bootstrap.js';

type Noise = 'gauss' | 'laplace';

/** Laplace(0, b) by inversion. */
function laplace(rng: Rng, b: number): number {
  const u = rng.uniform() - 0.5;
  return -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/**
 * n rows per side in d dims: side mean = offset (+ gap * e_axis on the positive side); independent
 * noise per coordinate with standard deviation sd[k] (Laplace scaled to the same sd: b = sd / sqrt 2).
 */
function cluster(
  rng: Rng,
  n: number,
  d: number,
  gap: number,
  axis: number,
  sd: number[],
  noise: Noise,
  offset = 5,
): { x: Float32Array; labels: Int8Array } {
  const x = new Float32Array(2 * n * d);
  const labels = new Int8Array(2 * n);
  for (let i = 0; i < 2 * n; i++) {
    labels[i] = i % 2 === 0 ? 1 : -1;
    for (let k = 0; k < d; k++) {
      const e = noise === 'gauss' ? sd[k]! * rng.normal() : laplace(rng, sd[k]! / Math.SQRT2);
      x[i * d + k] = offset + e + (labels[i] === 1 && k === axis ? gap : 0);
    }
  }
  return { x, labels };
}

const D = 24;
const SD = Array.from({ length: D }, (_, k) => (k === 3 ? 2 : 1)); // Cov = diag(1,1,1,4,1,...): top eigenvalue 4, trace D + 3

for (const noise of ['gauss', 'laplace'] as const) {
  test(`groupStats recovers delta, concentration and trace of ${noise} clusters within sampling error`, () => {
    const n = 4000;
    const { x, labels } = cluster(new Rng(7), n, D, 3, 0, SD, noise);
    const s = groupStats({ group: 'g', x, labels, d: D });
    assert.equal(s.nPos, n);
    assert.equal(s.nNeg, n);
    // E||dhat||^2 = 9 + tr(Cov+ + Cov-)/n, so |dhat - 3| is a few 0.03 at most.
    assert.ok(Math.abs(s.delta - 3) < 0.08, `delta ${s.delta}`);
    // Top eigenvalue 4: standard error about 4 sqrt(2/n) = 0.09 (Gaussian), larger for Laplace's kurtosis.
    assert.ok(Math.abs(s.concentration - 4) < 0.45, `concentration ${s.concentration}`);
    assert.ok(Math.abs(s.trace - (D + 3)) / (D + 3) < 0.04, `trace ${s.trace}`);
    // Along e_0 each side has variance 1: Fisher = 9 / 2.
    assert.ok(Math.abs(s.fisher - 4.5) / 4.5 < 0.08, `fisher ${s.fisher}`);
    assert.ok(Math.abs(s.deltaOverSqrtConcentration - s.delta / Math.sqrt(s.concentration)) < 1e-12);
  });
}

test('a group whose two sides have the same embeddings has delta 0 and ratios 0, not Infinity', () => {
  const x = new Float32Array(4 * D).fill(0.5); // 4 identical rows, 2 per side
  const s = groupStats({ group: 'same', x, labels: Int8Array.from([1, -1, 1, -1]), d: D });
  assert.equal(s.delta, 0);
  assert.equal(s.deltaOverSqrtConcentration, 0);
  assert.equal(s.fisher, 0);
});

test('top eigenvalue, explicit [d, d] and implicit, equals the dense float64 power iteration on A^T A', () => {
  const rng = new Rng(3);
  const n = 50;
  const d = 12;
  const a = Float32Array.from({ length: n * d }, (_, i) => rng.normal() * (1 + (i % d)));
  const gram = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let r = 0; r < n; r++) s += a[r * d + i]! * a[r * d + j]!;
      return s;
    }),
  );
  let v = new Array<number>(d).fill(1);
  let lambda = 0;
  for (let it = 0; it < 5000; it++) {
    const w = gram.map((row) => row.reduce((s, g, j) => s + g * v[j]!, 0));
    lambda = Math.hypot(...w);
    v = w.map((x) => x / lambda);
  }
  for (const got of [topEigenvalueOfGram(a, n, d), topEigenvalueViaImplicitGram(a, n, d)]) {
    assert.ok(Math.abs(got - lambda) / lambda < 1e-5, `${got} vs ${lambda}`);
  }
});

// Centred rows with a decaying spectrum (column scales 1 + k/8), like real embeddings; n < d uses the
// [n, n] Gram, n > d the [d, d] one, and both must equal the implicit Lanczos on Xc^T Xc.
for (const [n, d] of [
  [40, 300],
  [300, 40],
] as const) {
  test(`explicit Gram and implicit Lanczos give the same top eigenvalue for n=${n}, d=${d}`, () => {
    const rng = new Rng(n + d);
    const a = Float32Array.from({ length: n * d }, (_, i) => rng.normal() * (1 + (i % d) / 8));
    const explicit = topEigenvalueViaExplicitGram(a, n, d);
    const implicit = topEigenvalueViaImplicitGram(a, n, d);
    assert.ok(Math.abs(explicit - implicit) / implicit < 1e-5, `explicit ${explicit} vs implicit ${implicit}`);
    assert.equal(topEigenvalueOfGram(a, n, d), explicit);
    // Scaling the rows by 2 scales the eigenvalue by exactly 4 (powers of two are exact in float32).
    assert.ok(
      Math.abs(
        topEigenvalueViaExplicitGram(
          a.map((v) => 2 * v),
          n,
          d,
        ) /
          explicit -
          4,
      ) < 1e-9,
    );
  });
}

// m = 300 spans three blocks of symmetricGram (GRAM_BLOCK = 128): rows when n <= d, columns when n > d.
for (const [n, d] of [
  [300, 400],
  [400, 300],
] as const) {
  test(`symmetricGram for n=${n}, d=${d} is exactly symmetric and equals the float64 Gram within float32 rounding`, () => {
    const rng = new Rng(n);
    const a = Float32Array.from({ length: n * d }, () => rng.normal());
    const m = Math.min(n, d);
    const depth = Math.max(n, d);
    const at = (i: number, k: number) => (n <= d ? a[i * d + k]! : a[k * d + i]!); // row i of A (n <= d) or column i
    const g = symmetricGram(a, n, d);
    let worst = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j <= i; j++) {
        let exact = 0;
        let magnitude = 0;
        for (let k = 0; k < depth; k++) {
          exact += at(i, k) * at(j, k);
          magnitude += Math.abs(at(i, k) * at(j, k));
        }
        assert.equal(g[i * m + j], g[j * m + i]);
        // float32 accumulation of `depth` products: |error| <= depth * 2^-24 * sum |a_ik a_jk|
        worst = Math.max(worst, Math.abs(g[i * m + j]! - exact) / (depth * 2 ** -24 * magnitude));
      }
    }
    assert.ok(worst <= 1, `error ${worst} of the float32 bound`);
  });
}

test('largestEigenvalueTridiagonal: [[2,1],[1,2]] has eigenvalues 1 and 3', () => {
  assert.ok(Math.abs(largestEigenvalueTridiagonal([2, 2], [1]) - 3) < 1e-12);
  assert.ok(Math.abs(largestEigenvalueTridiagonal([5], []) - 5) < 1e-12);
});

test('fitTail: a Laplace sample gives alpha near 1 and K near its scale; a Gaussian one a larger alpha', () => {
  const rng = new Rng(11);
  const lap = Array.from({ length: 20000 }, () => laplace(rng, 2));
  const fit = fitTail(lap)!;
  assert.ok(Math.abs(fit.alpha - 1) < 0.06, `alpha ${fit.alpha}`);
  assert.ok(Math.abs(fit.K - 2) / 2 < 0.08, `K ${fit.K}`);
  const gauss = fitTail(Array.from({ length: 20000 }, () => rng.normal()))!;
  assert.ok(gauss.alpha > 1.35, `gaussian alpha ${gauss.alpha}`);
  assert.equal(fitTail([1, 2, 3]), null);
});

test('priority gap equals the hand computation: d1 = (2,0), d2 = (1,1)', () => {
  // dbar = (1.5, 0.5), ||dbar|| = sqrt(2.5); p1 = 3/sqrt(2.5), p2 = 2/sqrt(2.5); gap = (1/sqrt(2.5)) / 2.
  const gap = priorityGapMatrix([
    [4, 2],
    [2, 2],
  ]);
  const expected = 1 / Math.sqrt(2.5) / 2;
  assert.ok(Math.abs(gap[0]![1]! - expected) < 1e-15);
  assert.ok(Math.abs(gap[1]![0]! + expected) < 1e-15);
  assert.equal(gap[0]![0], 0);
});

test('Spearman and Kendall tau-b against hand values, without and with ties', () => {
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12); // 1 - 6*4/(5*24)
  assert.ok(Math.abs(kendallTauB([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.6) < 1e-12); // (8-2)/10
  assert.deepEqual(averageRanks([1, 2, 2, 3]), [1, 2.5, 2.5, 4]);
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 3]) - 3.75 / 4.5) < 1e-12);
  assert.ok(Math.abs(kendallTauB([1, 2, 2, 3], [1, 2, 3, 3]) - 0.8) < 1e-12); // 4 / sqrt(5 * 5)
  // Infinities tie with each other (not NaN): C = 0, D = 5, one tie in x: -5 / sqrt(5 * 6).
  assert.ok(Math.abs(kendallTauB([1, 2, Infinity, Infinity], [4, 3, 2, 1]) + 5 / Math.sqrt(30)) < 1e-12);
});

test("oneStepAccuracy: Cantelli's bound on z = [1, 1, 1, -1]", () => {
  const a = oneStepAccuracy([1, 1, 1, -1]);
  assert.equal(a.predicted, 0.75);
  assert.ok(Math.abs(a.cantelliLowerBound - 0.25) < 1e-15); // m = 0.5, var = 0.75: 0.25/(0.25+0.75)
  assert.equal(oneStepAccuracy([-1, -1, 1]).cantelliLowerBound, 0);
});

/** Three orthogonal groups with gaps 1, 2, 3 (and two equal ones when `tie`), in one source. */
function threeGroups(noise: Noise, n: number, gaps = [1, 3, 2]): ReturnType<typeof memorySource> {
  const rng = new Rng(5);
  const d = 8;
  const parts = gaps.map((g, b) => cluster(rng, n, d, g, b, new Array(d).fill(0.5), noise, 0));
  const x = new Float32Array(parts.reduce((s, p) => s + p.x.length, 0));
  const rows: RowInfo[] = [];
  let off = 0;
  parts.forEach((p, b) => {
    x.set(p.x, off);
    off += p.x.length;
    p.labels.forEach((l, i) => rows.push({ id: `${b}-${i}`, group: `g${gaps[b]}`, label: l as 1 | -1 }));
  });
  return memorySource(x, d, rows);
}

for (const noise of ['gauss', 'laplace'] as const) {
  test(`analyzeEmbeddings: the predicted order on ${noise} clusters is the known order of delta`, () => {
    const report = analyzeEmbeddings(threeGroups(noise, 300), { bootstrap: 50, seed: 1 });
    assert.deepEqual(report.order.groups, ['g3', 'g2', 'g1']);
    assert.deepEqual(
      report.groups.map((g) => g.predicted_rank),
      [1, 2, 3],
    );
    // Balanced orthogonal groups of equal weight: velocity_b = (1/3) ||d_b/2||^2, plus cross terms of the
    // sampling noise of c_b (sd 0.5/sqrt(600) = 0.02 per coordinate) with the other groups' c (up to 1.5).
    for (const g of report.groups) {
      const gap = Number(g.group.slice(1));
      assert.ok(Math.abs(g.margin_velocity - (gap * gap) / 12) < 0.05, `${g.group} velocity ${g.margin_velocity}`);
      assert.ok(g.delta_ci![0] < g.delta && g.delta < g.delta_ci![1]);
      assert.ok(Math.abs(gap - g.delta) < 0.1);
      assert.deepEqual(g.rank_ci, [g.predicted_rank, g.predicted_rank]);
      assert.ok(g.one_step_accuracy >= g.one_step_accuracy_bound);
    }
    assert.deepEqual(report.order.too_close, []);
    assert.equal(report.priority.gap.length, 3);
  });
}

test('analyzeEmbeddings: two groups of equal delta are flagged too close to call; same seed, same report', () => {
  const a = analyzeEmbeddings(threeGroups('gauss', 200, [2, 2.01, 4]), { bootstrap: 60, seed: 9 });
  assert.equal(a.order.groups[0], 'g4');
  assert.equal(a.order.too_close.length, 1);
  assert.deepEqual(new Set([a.order.too_close[0]!.a, a.order.too_close[0]!.b]), new Set(['g2', 'g2.01']));
  const b = analyzeEmbeddings(threeGroups('gauss', 200, [2, 2.01, 4]), { bootstrap: 60, seed: 9 });
  assert.deepEqual(JSON.stringify(a), JSON.stringify(b));
});

test('analyzeEmbeddings warns about a de-prioritised group in the mix and about small groups', () => {
  // g1 is trained with g3 and g2; velocity of g1 = (1/3)(1/4) = 0.083 < half the mix mean.
  const report = analyzeEmbeddings(threeGroups('gauss', 20), { bootstrap: 0, seed: 1, mix: ['g1', 'g3', 'g2'] });
  const kinds = report.warnings.map((w) => `${w.kind}:${w.groups?.join(',')}`);
  assert.ok(kinds.includes('deprioritised:g1'), kinds.join(' '));
  assert.ok(kinds.includes('small-group:g3'), kinds.join(' '));
  assert.match(report.warnings.find((w) => w.kind === 'small-group')!.message, /only 20 positive \/ 20 negative rows/);
});

test('delta_unbiased removes the noise floor exactly; delta_ci contains delta where the plain percentile interval does not', () => {
  // True Delta = 3 in d = 2048 with 200 rows a side: the plug-in delta^2 carries the floor
  // tr(S+)/n+ + tr(S-)/n- ~ 2 * 2048 / 200 = 20.5 on top of Delta^2 = 9 (theory.md s.7).
  const d = 2048;
  const n = 200;
  const { x, labels } = cluster(new Rng(11), n, d, 3, 0, new Array(d).fill(1), 'gauss', 0);
  const rows: RowInfo[] = Array.from(labels, (l, i) => ({ id: String(i), group: 'g', label: l as 1 | -1 }));
  const report = analyzeEmbeddings(memorySource(x, d, rows), { bootstrap: 200, seed: 3 });
  const g = report.groups[0]!;
  // The floor recomputed here in float64 from the rows: sum over sides of tr(S)/n, S with the n-1 denominator.
  let floor = 0;
  for (const side of [1, -1]) {
    const idx = [...labels.keys()].filter((i) => labels[i] === side);
    for (let k = 0; k < d; k++) {
      let mean = 0;
      for (const i of idx) mean += x[i * d + k]!;
      mean /= idx.length;
      let ss = 0;
      for (const i of idx) ss += (x[i * d + k]! - mean) ** 2;
      floor += ss / (idx.length - 1) / idx.length;
    }
  }
  // The identity delta^2 - delta_unbiased^2 = floor holds on the sample (float64 sums of float32 rows).
  assert.ok(Math.abs(g.delta ** 2 - g.delta_unbiased ** 2 - floor) < 1e-9 * floor, `${g.delta} ${g.delta_unbiased}`);
  assert.ok(Math.abs(floor - 20.48) < 1, `floor ${floor}`);
  assert.ok(g.delta > 5, `plug-in delta ${g.delta} is biased upward`);
  assert.ok(Math.abs(g.delta_unbiased - 3) < 0.5, `delta_unbiased ${g.delta_unbiased}`);
  // The same replicates as analyze's (seed derived per group): their plain percentile interval misses delta.
  const rep = bootstrapGroup({ group: 'g', x, labels, d }, 200, Rng.derive(3, 'g'));
  const [lo, hi] = interval95(rep.deltas);
  assert.ok(lo > g.delta, `percentile interval [${lo}, ${hi}] above delta ${g.delta}`);
  assert.ok(g.delta_ci![0] <= g.delta && g.delta <= g.delta_ci![1], `${g.delta_ci} around ${g.delta}`);
  // Same widths as the percentile interval, moved so the replicates' median sits on delta.
  const median = quantile(rep.deltas, 0.5);
  assert.ok(Math.abs(g.delta_ci![0] - (g.delta - (median - lo))) < 1e-12);
  assert.ok(Math.abs(g.delta_ci![1] - (g.delta + (hi - median))) < 1e-12);
  assert.match(report.methods.delta_ci!, /bias-corrected percentile bootstrap/);
});

test('centredInterval95 contains its estimate wherever the replicates lie', () => {
  const values = [10, 11, 12, 13, 14];
  assert.deepEqual(centredInterval95(values, 5), [5 - (12 - 10.1), 5 + (13.9 - 12)]);
  assert.deepEqual(centredInterval95([3, 3, 3], 7), [7, 7]);
});
