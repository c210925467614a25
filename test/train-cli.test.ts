// `prefdyn train` end to end on a tiny Llama (d=32, 2 layers): LoRA and full runs, kill -9 + --resume,
// load-back with `prefdyn logprobs`, and the bad-input messages.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, repoRoot, fixturesDir } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { loadSource } from '../src/data/source.js';
import { splitPairs } from '../src/data/split.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-train-');
const model = path.join(tmp, 'tiny');
const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
const train = (args: string[]) => runCli(['train', ...args], { env });
// 16 pairs in 2 groups, 4 held out: 12 train pairs = one full batch (6 x 2 accumulated) per step.
const base = [
  '--model',
  model,
  '--data',
  data,
  '--test-fraction',
  '0.25',
  '--batch-size',
  '6',
  '--gradient-accumulation-steps',
  '2',
  '--no-shuffle',
];

const readLines = (run: string) =>
  fs
    .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

before(() => {
  initTinyLlama(model);
});

function assertRunFolder(run: string, steps: number) {
  for (const f of ['config.json', 'metrics.jsonl', 'summary.json']) assert.ok(fs.existsSync(path.join(run, f)), f);
  const lines = readLines(run);
  for (let s = 0; s < steps; s++) {
    for (const g of ['alpha', 'beta', 'all']) {
      assert.ok(
        lines.some((l) => l.step === s && l.split === 'train' && l.group === g),
        `train line step ${s} group ${g}`,
      );
    }
  }
  for (const g of ['alpha', 'beta', 'all'])
    assert.ok(lines.some((l) => l.step === steps && l.split === 'test' && l.group === g));
  const first = lines.find((l) => l.split === 'train' && l.group === 'all');
  assert.equal(first.loss, Math.LN2, 'step 0 is logged before any update');
  for (const k of [
    'rewards/chosen',
    'rewards/rejected',
    'rewards/margins',
    'rewards/accuracies',
    'policy/accuracies',
    'logps/chosen',
    'logps/rejected',
    'weights/unembed_delta_norm',
    'epoch',
  ])
    assert.equal(typeof first[k], 'number', k);
  return lines;
}

test('a LoRA run writes the run folder; per-group lines at every step; the loss falls', () => {
  const run = path.join(tmp, 'lora');
  const r = train([...base, '--mode', 'lora', '--lr', '0.05', '--steps', '5', '--eval-every', '0', '--out', run]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^completed 5\/5 steps; test loss/);
  const lines = assertRunFolder(run, 5);
  const all = lines.filter((l) => l.split === 'train' && l.group === 'all');
  assert.ok(all[4].loss < all[0].loss - 0.01, `train loss ${all[0].loss} -> ${all[4].loss}`);
  assert.ok(
    lines.some((l) => l['weights/delta_norm/layers.1'] > 0),
    'per-layer LoRA delta norms',
  );
  assert.ok(fs.existsSync(path.join(run, 'checkpoints', 'step-5', 'adapter_model.safetensors')));
  const cfg = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
  assert.equal(cfg.config.beta, 0.1);
  assert.equal(cfg.sources.beta, 'default');
  assert.equal(cfg.sources.lr, 'command line');
});

test('a full run lowers the loss, and its saved model gives the logged log-probs under `prefdyn logprobs`', async () => {
  const run = path.join(tmp, 'full');
  const r = train([...base, '--mode', 'full', '--lr', '0.003', '--steps', '4', '--out', run]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /reference log-probs read from .*ref-logps\/[0-9a-f]{64}\.bin/, 'the LoRA run cached them');
  const lines = assertRunFolder(run, 4);
  const all = lines.filter((l) => l.split === 'train' && l.group === 'all');
  assert.ok(all[3].loss < all[0].loss, `train loss ${all[0].loss} -> ${all[3].loss}`);
  const out = path.join(tmp, 'lp.jsonl');
  const lp = runCli(['logprobs', '--model', path.join(run, 'checkpoints', 'step-4'), '--data', data, '--out', out]);
  assert.equal(lp.code, 0, lp.stderr);
  const byId = new Map(
    fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((x) => [x.id, x]),
  );
  const { test: testPairs } = splitPairs((await loadSource(data)).pairs, { testFraction: 0.25, seed: 1234 });
  for (const g of ['alpha', 'beta']) {
    const mine = testPairs.filter((p) => p.group === g).map((p) => byId.get(p.id));
    const mean = mine.reduce((s, x) => s + x.logp_chosen, 0) / mine.length;
    const logged = lines.find((l) => l.step === 4 && l.split === 'test' && l.group === g)['logps/chosen'];
    assert.ok(Math.abs(mean - logged) < 1e-5 * Math.abs(logged), `${g}: logprobs ${mean} vs logged ${logged}`);
  }
});

test('kill -9 during a run, then --resume, equals the uninterrupted run line for line', () => {
  const args = [
    '--model',
    model,
    '--data',
    data,
    '--test-fraction',
    '0.25',
    '--batch-size',
    '4',
    '--gradient-accumulation-steps',
    '1',
    '--mode',
    'lora',
    '--lr',
    '0.02',
    '--steps',
    '10',
    '--save-every',
    '2',
    '--eval-every',
    '3',
  ];
  const whole = path.join(tmp, 'whole');
  assert.equal(train([...args, '--out', whole]).code, 0);
  const cut = path.join(tmp, 'cut');
  // The run kills itself with SIGKILL as soon as its step-4 checkpoint is in place (test/helpers/kill-after-rename.ts).
  const killed = spawnSync(
    process.execPath,
    [
      '--import',
      path.join(repoRoot, 'dist', 'test', 'helpers', 'kill-after-rename.js'),
      path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'),
      'train',
      ...args,
      '--out',
      cut,
    ],
    { env: { ...process.env, ...env, PREFDYN_TEST_KILL_AFTER: 'step-4' }, stdio: 'ignore' },
  );
  assert.equal(killed.signal, 'SIGKILL');
  assert.deepEqual(fs.readdirSync(path.join(cut, 'checkpoints')), ['step-2', 'step-4']);
  assert.ok(!fs.existsSync(path.join(cut, 'summary.json')), 'the run was killed before its end');
  const r = train(['--resume', cut]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    fs.readFileSync(path.join(cut, 'metrics.jsonl'), 'utf8'),
    fs.readFileSync(path.join(whole, 'metrics.jsonl'), 'utf8'),
  );
});

test('bad input: batch larger than the data, no pairs, incompatible tokenizer, unknown option value', () => {
  let r = train([...base, '--batch-size', '20', '--gradient-accumulation-steps', '1', '--out', path.join(tmp, 'b1')]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim().split('\n').at(-1),
    'prefdyn: the effective batch (--batch-size 20 x --gradient-accumulation-steps 1 = 20) is larger than the training split (12 pairs); lower --batch-size or --test-fraction',
  );
  const invalid = path.join(fixturesDir, 'train', 'invalid.jsonl');
  r = train(['--model', model, '--data', invalid, '--skip-invalid', '--out', path.join(tmp, 'b2')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').at(-1), `prefdyn: ${invalid}: no pairs to train on (2 rows skipped)`);
  const other = path.join(tmp, 'other-tok');
  assert.equal(
    runCli(['model', 'init', '--arch', 'llama', '--size', 'd=8,layers=1,heads=2,kv=1', '--out', other]).code,
    0,
  );
  r = train([...base, '--ref-model', other, '--out', path.join(tmp, 'b3')]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^prefdyn: incompatible tokenizers: .*tiny\/tokenizer\.json and .*other-tok\/tokenizer\.json give different token ids for the prompt of pair alpha\/0; the reference must share the policy's tokenizer$/m,
  );
  r = train([...base, '--objective', 'kto', '--out', path.join(tmp, 'b4')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'prefdyn: --objective must be one of dpo, ipo, hinge, robust, got "kto"');
  for (const d of ['b1', 'b2', 'b3', 'b4'])
    assert.ok(!fs.existsSync(path.join(tmp, d, 'metrics.jsonl')), `${d} left no run behind`);
});
