// predictOneStepMargins (with gradientDirection's v, as `analyze` uses them) against one SGD step of an explicit softmax model with a hand-written DPO loss
// and a finite-difference gradient (theory.md s.2; the derivation is in src/analysis/one-step.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/util/rng.js';
import { gradientDirection, predictOneStepMargins } from '../src/analysis/one-step.js';

/** v = mean over the batch of s_j g_j, as gradientDirection builds it from a batch of single rows. */
function batchDirection(g: Float32Array, d: number, s: readonly number[], batch: readonly number[]): Float64Array {
  return gradientDirection(
    batch.map((j) => Float64Array.from(g.subarray(j * d, (j + 1) * d), (x) => s[j]! * x)),
    batch.map(() => 1 / batch.length),
  );
}

const V = 5;
const D = 4;
const YES = 1;
const NO = 3;

/** log softmax(W g)_y, W: [V, D] row-major, float64 throughout. */
function logProb(w: Float64Array, g: ArrayLike<number>, y: number): number {
  const logits = Array.from({ length: V }, (_, v) => {
    let s = 0;
    for (let k = 0; k < D; k++) s += w[v * D + k]! * g[k]!;
    return s;
  });
  const max = Math.max(...logits);
  const lse = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
  return logits[y]! - lse;
}

/** DPO margins beta * [(log pi(yw) - log pi0(yw)) - (log pi(yl) - log pi0(yl))]; s = +1: yw = Yes. */
function margins(w: Float64Array, w0: Float64Array, g: Float32Array, s: number[], beta: number): number[] {
  return s.map((si, i) => {
    const gi = g.subarray(i * D, (i + 1) * D);
    const [yw, yl] = si === 1 ? [YES, NO] : [NO, YES];
    return beta * (logProb(w, gi, yw) - logProb(w0, gi, yw) - (logProb(w, gi, yl) - logProb(w0, gi, yl)));
  });
}

function dpoLoss(
  w: Float64Array,
  w0: Float64Array,
  g: Float32Array,
  s: number[],
  beta: number,
  batch: number[],
): number {
  const m = margins(w, w0, g, s, beta);
  return batch.reduce((sum, i) => sum + Math.log1p(Math.exp(-m[i]!)), 0) / batch.length;
}

function oneSgdStep(
  w0: Float64Array,
  g: Float32Array,
  s: number[],
  beta: number,
  lr: number,
  batch: number[],
): Float64Array {
  const h = 1e-5;
  const w1 = Float64Array.from(w0);
  for (let p = 0; p < w0.length; p++) {
    const plus = Float64Array.from(w0);
    const minus = Float64Array.from(w0);
    plus[p]! += h;
    minus[p]! -= h;
    const grad = (dpoLoss(plus, w0, g, s, beta, batch) - dpoLoss(minus, w0, g, s, beta, batch)) / (2 * h);
    w1[p]! -= lr * grad;
  }
  return w1;
}

for (const [label, batch] of [
  ['full batch', [0, 1, 2, 3, 4, 5, 6]],
  ['a sub-batch', [0, 2, 5]],
] as const) {
  test(`predictOneStepMargins equals one finite-difference SGD step of explicit softmax DPO (${label})`, () => {
    const rng = new Rng(21);
    const w0 = Float64Array.from({ length: V * D }, () => rng.normal());
    const g = Float32Array.from({ length: 7 * D }, () => rng.normal() * 2);
    const s = [1, -1, 1, 1, -1, -1, 1];
    const beta = 0.5;
    const lr = 0.3;
    const observed = margins(oneSgdStep(w0, g, s, beta, lr, [...batch]), w0, g, s, beta);
    const predicted = predictOneStepMargins({
      embeddings: g,
      d: D,
      labels: s,
      lr,
      beta,
      v: batchDirection(g, D, s, batch),
    });
    for (let i = 0; i < s.length; i++) {
      assert.ok(
        Math.abs(predicted[i]! - observed[i]!) < 1e-7 * Math.max(1, Math.abs(observed[i]!)),
        `row ${i}: ${predicted[i]} vs ${observed[i]}`,
      );
    }
  });
}

test("one balanced group: the margin is theory.md's (lr beta^2 / 2) s_i (mu+ - mu-) . g_i", () => {
  const g = Float32Array.from([1, 2, 0, 1, 3, 1, -1, 0]); // 4 rows, d = 2
  const s = [1, -1, 1, -1];
  const muGap = [(1 + 3) / 2 - (0 + -1) / 2, (2 + 1) / 2 - (1 + 0) / 2];
  const m = predictOneStepMargins({
    embeddings: g,
    d: 2,
    labels: s,
    lr: 0.1,
    beta: 2,
    v: batchDirection(g, 2, s, [0, 1, 2, 3]),
  });
  for (let i = 0; i < 4; i++) {
    const expected = ((0.1 * 4) / 2) * s[i]! * (muGap[0]! * g[2 * i]! + muGap[1]! * g[2 * i + 1]!);
    assert.ok(Math.abs(m[i]! - expected) < 1e-12);
  }
});

test('gradientDirection from group means and shares equals the mean of s_j g_j over all rows', () => {
  const rng = new Rng(4);
  const g = Float32Array.from({ length: 9 * D }, () => rng.normal());
  const s = [1, -1, 1, 1, 1, -1, -1, 1, -1];
  const groups = [
    [0, 1, 2, 3],
    [4, 5, 6, 7, 8],
  ];
  const signedMeans = groups.map((rows) => batchDirection(g, D, s, rows));
  const v = gradientDirection(signedMeans, [4 / 9, 5 / 9]);
  const direct = new Float64Array(D);
  for (let j = 0; j < 9; j++) for (let k = 0; k < D; k++) direct[k]! += (s[j]! * g[j * D + k]!) / 9;
  for (let k = 0; k < D; k++) assert.ok(Math.abs(v[k]! - direct[k]!) < 1e-12, `v[${k}] ${v[k]} vs ${direct[k]}`);
});
