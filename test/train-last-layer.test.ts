// Last-layer mode against theory.md s.2: the first SGD step in closed form, and the trainer's run folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../src/util/rng.js';
import { lastLayerPolicy, singleTokenFeatures } from '../src/train/last-layer.js';
import { resolveConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { gradientDirection, predictOneStepMargins } from '../src/analysis/one-step.js';
import { tempDir } from './helpers/temp.js';

const V = 7,
  d = 6,
  N = 40,
  YES = 2,
  NO = 5;

/** A balanced synthetic set: pair i prefers Yes (s = +1) for even i; g ~ N(s * mu, I). */
function synthetic(seed: number) {
  const rng = new Rng(seed);
  const mu = Array.from({ length: d }, () => rng.normal());
  const s = Int8Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 1 : -1));
  const g = new Float32Array(N * d);
  for (let i = 0; i < N; i++) for (let k = 0; k < d; k++) g[i * d + k] = 0.5 * s[i]! * mu[k]! + rng.normal();
  const w0 = Float32Array.from({ length: V * d }, () => 0.3 * rng.normal());
  const chosen = Int32Array.from(s, (x) => (x > 0 ? YES : NO));
  const rejected = Int32Array.from(s, (x) => (x > 0 ? NO : YES));
  return { s, g, w0, chosen, rejected };
}

function tmpDir(): string {
  return tempDir('prefdyn-ll-');
}

async function oneRun(eta: number, beta: number, steps: number, extra: Record<string, unknown> = {}) {
  const { s, g, w0, chosen, rejected } = synthetic(7);
  const saved: { w?: Float32Array } = {};
  const policy = lastLayerPolicy({
    w0,
    vocabSize: V,
    features: singleTokenFeatures(g, d, chosen, rejected),
    weightDecay: 0,
    description: 'synthetic',
    save: async (_dir, w) => void (saved.w = w.slice()),
  });
  const all = Array.from({ length: N }, (_, i) => i);
  const ref = policy.logps(all, false, new Rng(0));
  const runDir = tmpDir();
  const { config } = resolveConfig(undefined, {
    model: 'm',
    data: 'x.jsonl',
    out: runDir,
    mode: 'last-layer',
    lr: String(eta),
    beta: String(beta),
    steps: String(steps),
    batch_size: String(N),
    no_shuffle: true,
    ...extra,
  });
  const groups = all.map((i) => (i < N / 2 ? 'a' : 'b'));
  const result = await train({
    config,
    runDir,
    policy,
    data: { groups, train: all, test: [], refChosen: ref.chosen, refRejected: ref.rejected, startsAtReference: true },
  });
  return { s, g, w0, policy, ref, runDir, result, all, saved };
}

test('first SGD step equals theory.md s.2: per-example margins and ||W1 - W0||', async () => {
  const eta = 0.5,
    beta = 0.1;
  const { s, g, policy, ref, all, runDir } = await oneRun(eta, beta, 1);
  const after = policy.logps(all, false, new Rng(0));
  const dmu = new Float64Array(d);
  for (let i = 0; i < N; i++) for (let k = 0; k < d; k++) dmu[k]! += (s[i]! * g[i * d + k]!) / (N / 2);
  // v = mean_j s_j g_j, as analyze builds it: every row its own group of weight 1/N.
  const v = gradientDirection(
    Array.from({ length: N }, (_, j) => Float64Array.from(g.subarray(j * d, (j + 1) * d), (x) => s[j]! * x)),
    new Array<number>(N).fill(1 / N),
  );
  const predicted = predictOneStepMargins({ embeddings: g, d, labels: s, lr: eta, beta, v });
  let maxAbs = 0;
  for (let i = 0; i < N; i++) {
    const m = beta * (after.chosen[i]! - ref.chosen[i]! - (after.rejected[i]! - ref.rejected[i]!));
    let dot = 0;
    for (let k = 0; k < d; k++) dot += dmu[k]! * g[i * d + k]!;
    const closed = ((eta * beta * beta) / 2) * s[i]! * dot; // theory.md s.2, balanced data
    maxAbs = Math.max(maxAbs, Math.abs(closed));
    assert.ok(Math.abs(m - closed) < 2e-4 * Math.abs(closed) + 1e-7, `pair ${i}: margin ${m} vs closed form ${closed}`);
    assert.ok(
      Math.abs(predicted[i]! - closed) < 1e-9 * Math.abs(closed) + 1e-12,
      `analysis prediction ${predicted[i]} vs ${closed}`,
    );
  }
  assert.ok(maxAbs > 1e-3, 'the test data must move the margins');
  // Rank one, so Frobenius = operator norm = eta * beta * ||mu+ - mu-|| / (2 sqrt 2).
  const norm = policy.weightNorms()['weights/unembed_delta_norm']!;
  const want = (eta * beta * Math.hypot(...dmu)) / (2 * Math.SQRT2);
  assert.ok(Math.abs(norm - want) < 1e-4 * want, `||W1 - W0|| ${norm} vs ${want}`);
  const lines = fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => `${l.step}/${l.split}/${l.group}`),
    ['0/train/a', '0/train/b', '0/train/all'],
  );
  for (const l of lines) {
    assert.equal(l.loss, Math.LN2, 'step 0 loss is ln 2 exactly');
    assert.equal(l['weights/unembed_delta_norm'], 0);
    assert.equal(l['rewards/margins'], 0);
  }
});

test('only the Yes and No rows move, by opposite amounts (rank-one update)', async () => {
  const { w0, saved } = await oneRun(0.3, 0.2, 1);
  const w = saved.w!; // the full W of the final checkpoint
  for (let v = 0; v < V; v++) {
    for (let k = 0; k < d; k++) {
      const delta = w[v * d + k]! - w0[v * d + k]!;
      if (v !== YES && v !== NO) assert.equal(delta, 0, `row ${v} moved by ${delta}`);
      else assert.ok(Math.abs(delta + (w[(YES + NO - v) * d + k]! - w0[(YES + NO - v) * d + k]!)) < 1e-7);
    }
  }
});

test('training lowers the loss, and ||W_t - W0|| grows at most linearly (theory.md s.2)', async () => {
  const eta = 0.5,
    beta = 1;
  const { g, runDir } = await oneRun(eta, beta, 20);
  const lines = fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => l.group === 'all');
  assert.equal(lines.length, 20);
  assert.ok(lines[19].loss < lines[0].loss - 0.05, `loss ${lines[0].loss} -> ${lines[19].loss}`);
  let meanG = 0;
  for (let i = 0; i < N; i++) meanG += Math.hypot(...g.subarray(i * d, (i + 1) * d)) / N;
  for (const l of lines) assert.ok(l['weights/unembed_delta_norm'] <= l.step * Math.SQRT2 * eta * beta * meanG + 1e-6);
});

test('IPO and hinge through the trainer: step-0 loss in closed form, then the loss falls', async () => {
  const beta = 0.25;
  // At step 0 every h = 0: IPO (h/beta - 1/(2 beta))^2 = (1/(2 beta))^2 = 4; hinge relu(1 - h) = 1.
  for (const [objective, lr, step0] of [
    ['ipo', 0.02, (1 / (2 * beta)) ** 2],
    ['hinge', 0.5, 1],
  ] as const) {
    const { runDir } = await oneRun(lr, beta, 8, { objective });
    const all = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.group === 'all');
    assert.equal(all[0].loss, step0, `${objective} step 0`);
    assert.ok(all[7].loss < 0.9 * all[0].loss, `${objective}: loss ${all[0].loss} -> ${all[7].loss}`);
    for (let k = 1; k < all.length; k++)
      assert.ok(
        all[k].loss < all[k - 1].loss,
        `${objective}: loss rose at step ${k}: ${all[k - 1].loss} -> ${all[k].loss}`,
      );
  }
});
