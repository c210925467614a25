// Ctrl-C: SIGINT stops `prefdyn train` after the current step with exit code 130 and a checkpoint of
// the last completed step; --resume then finishes the run with metrics equal, line for line, to those
// of an uninterrupted run.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, repoRoot, fixturesDir } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-sigint-');
const model = path.join(tmp, 'tiny');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
// 200 steps of ~10 ms: the run is far from its end when the first metrics lines appear.
const args = [
  '--model',
  model,
  '--data',
  path.join(fixturesDir, 'train', 'pairs.jsonl'),
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
  '200',
  '--eval-every',
  '7',
];

before(() => {
  initTinyLlama(model);
});

test('SIGINT stops after the current step with exit 130 and its checkpoint; --resume equals an uninterrupted run', async () => {
  const whole = path.join(tmp, 'whole');
  assert.equal(runCli(['train', ...args, '--out', whole], { env }).code, 0);

  const cut = path.join(tmp, 'cut');
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'train', ...args, '--out', cut],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const metrics = path.join(cut, 'metrics.jsonl');
  const hasTrainLine = () => fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').includes('"split":"train"');
  while (!hasTrainLine() && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /prefdyn: stopping after this step \(Ctrl-C again to quit now\)/);

  const summary = JSON.parse(fs.readFileSync(path.join(cut, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'interrupted');
  const k = summary.steps as number;
  assert.ok(k >= 1 && k < 200, `stopped after step ${k}`);
  assert.match(
    stderr,
    new RegExp(`interrupted after step ${k}; resume with --resume ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  assert.deepEqual(fs.readdirSync(path.join(cut, 'checkpoints')), [`step-${k}`]);
  const state = JSON.parse(fs.readFileSync(path.join(cut, 'checkpoints', `step-${k}`, 'trainer_state.json'), 'utf8'));
  assert.equal(state.step, k);
  const lines = fs
    .readFileSync(metrics, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(
    Math.max(...lines.filter((l) => l.split === 'train').map((l) => l.step)),
    k - 1,
    'the train lines of updates 0..k-1, nothing after',
  );

  const r = runCli(['train', '--resume', cut], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^completed 200\/200 steps/);
  assert.equal(fs.readFileSync(metrics, 'utf8'), fs.readFileSync(path.join(whole, 'metrics.jsonl'), 'utf8'));
});
