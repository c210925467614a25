// The single-token fast path of last-layer mode (last-layer-rows.ts) against the general path: the same
// pairs laid out with chosen and rejected at separate (equal) hidden rows go through the general path,
// which scores and differentiates all V logits. Both must log the same metrics.jsonl and save the same W,
// for plain SGD, SGD with momentum, AdamW without weight decay (rows absent from a batch still move) and
// AdamW with weight decay (every row decays). Then a CLI run on single-token persona-style data: its
// checkpoint is a complete model whose `prefdyn logprobs` give the logged numbers, and --resume from a
// mid-run checkpoint (optimizer state of the answer rows) equals the uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../src/util/rng.js';
import { lastLayerPolicy, singleTokenFeatures, type ResponseFeatures } from '../src/train/last-layer.js';
import { resolveConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { loadSource } from '../src/data/source.js';
import { splitPairs } from '../src/data/split.js';
import { runCli, repoRoot } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const V = 300,
  d = 8,
  N = 48;
// Group a (pairs 0-23) answers with tokens 3 / 7, group b (24-47) with 7 / 250. Pairs 0-39 train in
// source order, 10 a batch, 40-47 are the test split: batches 0, 1 and 4 hold group a only and batch 3
// group b only, so some updates leave an answer row out of the batch. (Sharing row 7 keeps every margin
// away from an exact tie, where the accuracies would be rounding noise.)
const TOKENS = { a: [3, 7], b: [7, 250] } as const;
const tmp = tempDir('prefdyn-llrows-');

function synthetic() {
  const rng = new Rng(21);
  const mu = Array.from({ length: d }, () => rng.normal());
  const g = new Float32Array(N * d);
  const chosen = new Int32Array(N);
  const rejected = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const [yes, no] = i < N / 2 ? TOKENS.a : TOKENS.b;
    const s = i % 2 === 0 ? 1 : -1;
    for (let k = 0; k < d; k++) g[i * d + k] = 0.7 * s * mu[k]! + rng.normal();
    chosen[i] = s > 0 ? yes : no;
    rejected[i] = s > 0 ? no : yes;
  }
  const w0 = Float32Array.from({ length: V * d }, () => 0.5 * rng.normal());
  return { g, w0, chosen, rejected };
}

/** The same pairs for the general path: hidden [2N, d], chosen of pair i at row i, rejected at row N + i. */
function separateRows(g: Float32Array, chosen: Int32Array, rejected: Int32Array): ResponseFeatures {
  const offsets = Int32Array.from({ length: N + 1 }, (_, i) => i);
  const hidden = new Float32Array(2 * N * d);
  hidden.set(g, 0);
  hidden.set(g, N * d);
  return {
    d,
    hidden,
    chosen: { offsets, rows: Int32Array.from({ length: N }, (_, i) => i), targets: chosen },
    rejected: { offsets: offsets.slice(), rows: Int32Array.from({ length: N }, (_, i) => N + i), targets: rejected },
  };
}

async function runWith(features: ResponseFeatures, w0: Float32Array, name: string, opts: Record<string, string>) {
  const weightDecay = Number(opts.weight_decay ?? 0);
  const saved: { w?: Float32Array } = {};
  const policy = lastLayerPolicy({
    w0,
    vocabSize: V,
    features,
    weightDecay,
    description: name,
    save: async (_dir, w) => void (saved.w = w.slice()),
  });
  const all = Array.from({ length: N }, (_, i) => i);
  const ref = policy.logps(all, false, new Rng(0));
  const runDir = path.join(tmp, name);
  fs.mkdirSync(runDir);
  const { config } = resolveConfig(undefined, {
    model: 'm',
    data: 'x.jsonl',
    out: runDir,
    mode: 'last-layer',
    steps: '6',
    batch_size: '10',
    eval_every: '2',
    no_shuffle: true,
    ...opts,
  });
  const groups = all.map((i) => (i < N / 2 ? 'a' : 'b'));
  const data = {
    groups,
    train: all.slice(0, 40),
    test: all.slice(40),
    refChosen: ref.chosen,
    refRejected: ref.rejected,
    startsAtReference: true,
  };
  await train({ config, runDir, policy, data });
  const lines = fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { lines, w: saved.w!, policy };
}

const CASES: Record<string, Record<string, string>> = {
  sgd: { optimizer: 'sgd', lr: '2', beta: '0.5' },
  'sgd-momentum': { optimizer: 'sgd', lr: '1', momentum: '0.9', beta: '0.5' },
  // AdamW divides by sqrt(v) + 1e-8, so it magnifies the general path's float32 residue of the cancelling
  // softmax terms in rows without gradient (about 1e-8 of the answer rows' gradient; the fast path has
  // exact zeros there). A small beta keeps that residue far below 1e-8; AdamW's step size does not depend on it.
  adamw: { optimizer: 'adamw', lr: '0.05', beta: '0.001' },
  'adamw-decay': { optimizer: 'adamw', lr: '0.05', weight_decay: '0.1', beta: '0.001' },
};

for (const [name, opts] of Object.entries(CASES)) {
  test(`single-token fast path logs the general path's metrics and saves its W (${name})`, async () => {
    const { g, w0, chosen, rejected } = synthetic();
    const fast = await runWith(singleTokenFeatures(g, d, chosen, rejected), w0, `${name}-fast`, opts);
    const general = await runWith(separateRows(g, chosen, rejected), w0, `${name}-general`, opts);
    // With weight decay 0 the fast path trains the 3 answer rows alone; with decay, all of W.
    assert.equal(fast.policy.params[0]!.data.length, (opts.weight_decay ? V : 3) * d);
    assert.equal(general.policy.params[0]!.data.length, V * d);
    assert.equal(fast.lines.length, general.lines.length);
    assert.ok(fast.lines.length > 20);
    fast.lines.forEach((f, j) => {
      const r = general.lines[j];
      assert.deepEqual(Object.keys(f), Object.keys(r));
      // Rewards are differences of log-probs: their rounding scale is beta * |logp|.
      const scale = Number(opts.beta) * Math.max(Math.abs(r['logps/chosen']), Math.abs(r['logps/rejected']));
      for (const [key, value] of Object.entries(r) as [string, number | string][]) {
        // logits/* average V logits of size about 1 (w0 ~ 0.3 N(0,1), g ~ N(0,1)) that mostly cancel:
        // their rounding scale is that size, 1, not the small mean.
        const keyScale = key.startsWith('logits/') ? Math.max(scale, 1) : scale;
        if (typeof value === 'string') assert.equal(f[key], value);
        else
          assert.ok(
            Math.abs(f[key] - value) <= 1e-6 * Math.max(Math.abs(value), keyScale),
            `${r.step}/${r.split}/${r.group} ${key}: fast ${f[key]} vs general ${value}`,
          );
      }
    });
    const trainAll = general.lines.filter((l) => l.split === 'train' && l.group === 'all');
    assert.ok(
      trainAll.at(-1).loss < trainAll[0].loss && trainAll.at(-1)['weights/unembed_delta_norm'] > 0.05,
      `the run must learn: ${JSON.stringify(trainAll.at(-1))}`,
    );
    let maxDiff = 0;
    let moved = 0;
    for (let v = 0; v < V * d; v++) {
      maxDiff = Math.max(maxDiff, Math.abs(fast.w[v]! - general.w[v]!));
      if (fast.w[v] !== w0[v]) moved += 1;
    }
    // AdamW: the general path's rows outside the answers drift by its magnified residue (see CASES).
    const tolerance = opts.optimizer === 'adamw' ? 1e-4 : 1e-6;
    assert.ok(maxDiff < tolerance, `saved W differs by ${maxDiff}`);
    // Decay moves every weight; otherwise exactly the answer rows move.
    assert.equal(moved, opts.weight_decay ? V * d : 3 * d);
  });
}

test('the single-token path refuses a gradient that is not a function of the margin (dRejected != -dChosen)', () => {
  const { g, w0, chosen, rejected } = synthetic();
  for (const weightDecay of [0, 0.1]) {
    const policy = lastLayerPolicy({
      w0,
      vocabSize: V,
      features: singleTokenFeatures(g, d, chosen, rejected),
      weightDecay,
      description: '',
      save: async () => {},
    });
    policy.logps([0, 1], true, new Rng(0));
    assert.throws(() => policy.backward(Float64Array.of(0.5, 0.25), Float64Array.of(-0.5, 0.25)), {
      message:
        'last-layer: single-token gradients need dRejected = -dChosen (a loss of the margin); pair 1 has 0.25 and 0.25',
    });
  }
});

test('a single-token last-layer run saves a model whose logprobs are the logged ones, and --resume equals the whole run', async () => {
  const model = path.join(tmp, 'gpt2');
  assert.equal(
    runCli([
      'model',
      'init',
      '--arch',
      'gpt2',
      '--size',
      'd=8,layers=1,heads=2',
      '--tokenizer',
      path.join(repoRoot, 'models', 'gpt2-tokenizer'),
      '--out',
      model,
      '--seed',
      '5',
    ]).code,
    0,
  );
  const data = path.join(tmp, 'yes-no.jsonl');
  const subjects = ['cats', 'rivers', 'stones', 'music', 'trees', 'clouds', 'numbers', 'ships'];
  fs.writeFileSync(
    data,
    Array.from({ length: 32 }, (_, i) => {
      const yes = i % 3 !== 0;
      return JSON.stringify({
        id: `q${i}`,
        group: i % 2 ? 'odd' : 'even',
        prompt: `Do you like ${subjects[i % 8]} number ${i}?\n`,
        chosen: yes ? ' Yes' : ' No',
        rejected: yes ? ' No' : ' Yes',
      });
    }).join('\n') + '\n',
  );
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
  const args = [
    '--model',
    model,
    '--data',
    data,
    '--mode',
    'last-layer',
    '--test-fraction',
    '0.25',
    '--batch-size',
    '8',
    '--steps',
    '4',
    '--optimizer',
    'adamw',
    '--lr',
    '0.5',
    '--beta',
    '0.5',
    '--save-every',
    '2',
    '--eval-every',
    '1',
  ];
  const whole = path.join(tmp, 'whole');
  const r = runCli(['train', ...args, '--out', whole], { env });
  assert.equal(r.code, 0, r.stderr);

  // The checkpoint is a complete model folder: prefdyn logprobs on it reproduce the logged test log-probs.
  const ckpt = path.join(whole, 'checkpoints', 'step-4');
  const out = path.join(tmp, 'lp.jsonl');
  const lp = runCli(['logprobs', '--model', ckpt, '--data', data, '--out', out]);
  assert.equal(lp.code, 0, lp.stderr);
  const byId = new Map(
    fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((x) => [x.id, x]),
  );
  const lines = fs
    .readFileSync(path.join(whole, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(
    [...byId.values()].every((x) => x.n_tokens_chosen === 1 && x.n_tokens_rejected === 1),
    'every answer is one GPT-2 token',
  );
  const { test: testPairs } = splitPairs((await loadSource(data)).pairs, { testFraction: 0.25, seed: 1234 });
  const logged = lines.find((l) => l.step === 4 && l.split === 'test' && l.group === 'all');
  const start = lines.find((l) => l.step === 0 && l.split === 'test' && l.group === 'all');
  assert.equal(logged.n, testPairs.length);
  assert.ok(
    logged['policy/accuracies'] !== start['policy/accuracies'] ||
      Math.abs(logged['logps/chosen'] - start['logps/chosen']) > 1e-3,
    `training moved the test log-probs: ${JSON.stringify(logged)}`,
  );
  for (const [key, field] of [
    ['logps/chosen', 'logp_chosen'],
    ['logps/rejected', 'logp_rejected'],
  ] as const) {
    const mean = testPairs.reduce((sum, p) => sum + byId.get(p.id)[field], 0) / testPairs.length;
    assert.ok(
      Math.abs(mean - logged[key]) < 1e-5 * Math.abs(logged[key]),
      `${key}: logprobs ${mean} vs logged ${logged[key]}`,
    );
  }

  // Resume from step 2: metrics and final weights equal the uninterrupted run's.
  const cut = path.join(tmp, 'cut');
  fs.cpSync(whole, cut, { recursive: true });
  fs.rmSync(path.join(cut, 'checkpoints', 'step-4'), { recursive: true });
  const resumed = runCli(['train', '--resume', cut], { env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(
    fs.readFileSync(path.join(cut, 'metrics.jsonl'), 'utf8'),
    fs.readFileSync(path.join(whole, 'metrics.jsonl'), 'utf8'),
  );
  assert.ok(
    fs
      .readFileSync(path.join(cut, 'checkpoints', 'step-4', 'model.safetensors'))
      .equals(fs.readFileSync(path.join(ckpt, 'model.safetensors'))),
  );
});
