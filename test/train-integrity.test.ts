// A run cannot be continued on other inputs than it started with, and no stop leaves a dead end:
// --resume refuses a changed base model, changed data, or changed checkpoint weights or optimizer state
// (--force continues, saying so); a run stopped before its first checkpoint starts again; temporaries
// of an interrupted checkpoint write are removed; a run killed before summary.json gets one; --steps 0
// and a batch larger than the training split are refused before any compute; config.json and
// summary.json record what computed them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, fixturesDir, repoRoot } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { checkpointDir } from '../src/train/checkpoint.js';
import { MetricsWriter } from '../src/train/run-folder.js';
import { UserError } from '../src/util/errors.js';
import { provenance } from '../src/tensor/kernels/provenance.js';

const tmp = tempDir('prefdyn-integrity-');
const model = path.join(tmp, 'tiny');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
const fixture = path.join(fixturesDir, 'train', 'pairs.jsonl');
const common = ['--test-fraction', '0.25', '--batch-size', '4', '--mode', 'last-layer', '--lr', '40'];
const readText = (file: string) => fs.readFileSync(file, 'utf8');
const readJson = (file: string) => JSON.parse(readText(file));

/** A fresh copy of the model and the data, and a finished 4-step run on them with checkpoints at 2 and 4. */
function makeRun(name: string): { run: string; modelDir: string; data: string } {
  const modelDir = path.join(tmp, `${name}-model`);
  fs.cpSync(model, modelDir, { recursive: true });
  const data = path.join(tmp, `${name}.jsonl`);
  fs.copyFileSync(fixture, data);
  const run = path.join(tmp, name);
  const r = runCli(
    ['train', '--model', modelDir, '--data', data, ...common, '--steps', '4', '--save-every', '2', '--out', run],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  return { run, modelDir, data };
}

/** Flips the lowest bit of the file's last byte (inside the tensor data of a safetensors file). */
function flipLastBit(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1]! ^= 1;
  fs.writeFileSync(file, bytes);
}

const refusal = (run: string, changes: string[]) =>
  `prefdyn: --resume ${run}: ${changes.join('; ')}; refusing to continue (--force overrides)\n`;

before(() => {
  initTinyLlama(model);
});

test('--resume refuses a changed base model in one line; --force continues with a warning', () => {
  const { run, modelDir } = makeRun('base');
  fs.rmSync(checkpointDir(run, 4), { recursive: true });
  flipLastBit(path.join(modelDir, 'model.safetensors'));
  const r = runCli(['train', '--resume', run], { env });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    refusal(run, [
      `changed base model: the files of ${modelDir} differ from the run's`,
      `changed reference model: the files of ${modelDir} differ from the run's`,
    ]),
  );
  assert.ok(!fs.existsSync(checkpointDir(run, 4)), 'nothing was trained');

  const forced = runCli(['train', '--resume', run, '--force'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(
    forced.stderr,
    new RegExp(`prefdyn: WARNING: --force: continuing although changed base model: the files of ${esc(modelDir)}`),
  );
  assert.match(forced.stdout, /^completed 4\/4 steps/);
});

test('--resume refuses changed data, naming the data source', () => {
  const { run, data } = makeRun('data');
  fs.rmSync(checkpointDir(run, 4), { recursive: true });
  fs.writeFileSync(data, readText(data).replace('Is the sky red?', 'Is the sky green?'));
  const r = runCli(['train', '--resume', run], { env });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    refusal(run, [
      `changed data: the pairs read from ${data} differ from the run's (train + test: 12 + 4 pairs then, 12 + 4 now; the file changed)`,
    ]),
  );
  const forced = runCli(['train', '--resume', run, '--force'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /WARNING: --force: continuing although changed data/);
});

test('--resume refuses a bit flipped in the checkpoint weights or in the optimizer state', () => {
  const { run } = makeRun('bits');
  fs.rmSync(checkpointDir(run, 4), { recursive: true });
  const step2 = checkpointDir(run, 2);
  for (const name of ['model.safetensors', 'optimizer.safetensors']) {
    const file = path.join(step2, name);
    const good = fs.readFileSync(file);
    flipLastBit(file);
    const r = runCli(['train', '--resume', run], { env });
    assert.equal(r.code, 1, name);
    assert.equal(r.stderr, refusal(run, [`checkpoint file ${file} changed since it was written`]));
    fs.writeFileSync(file, good);
  }
  flipLastBit(path.join(step2, 'model.safetensors'));
  const forced = runCli(['train', '--resume', run, '--force'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /WARNING: --force: continuing although checkpoint file .*model\.safetensors changed/);
});

test('--resume removes temporaries of a checkpoint write cut short and writes a missing summary.json', () => {
  const { run } = makeRun('stale');
  const whole = readJson(path.join(run, 'summary.json'));
  fs.rmSync(path.join(run, 'summary.json'));
  const stale = path.join(run, 'checkpoints', '.step-6.999999.tmp');
  fs.mkdirSync(stale);
  fs.writeFileSync(path.join(stale, 'model.safetensors'), 'half');
  const r = runCli(['train', '--resume', run], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `already complete: 4/4 steps; run folder ${run}\n`);
  assert.match(
    r.stderr,
    /prefdyn: removed 1 unfinished checkpoint write\(s\) of an earlier process: \.step-6\.999999\.tmp\n/,
  );
  assert.match(r.stderr, new RegExp(`prefdyn: ${esc(run)}: the run had finished but had no summary.json; wrote it\n`));
  assert.ok(!fs.existsSync(stale));
  // The same summary, but for its notes: they tell what this invocation did (cached values read, not computed).
  const rebuilt = readJson(path.join(run, 'summary.json'));
  assert.deepEqual({ ...rebuilt, notes: null }, { ...whole, notes: null });
  assert.equal(rebuilt.notes.length, whole.notes.length);
});

test('a run stopped before its first checkpoint: --resume starts it again, train --out reuses the folder', () => {
  const { run, modelDir, data } = makeRun('early');
  const whole = readText(path.join(run, 'metrics.jsonl'));
  // What a kill during the first step leaves: config.json and a few metrics lines, no checkpoint.
  fs.rmSync(path.join(run, 'checkpoints'), { recursive: true });
  fs.rmSync(path.join(run, 'summary.json'));
  fs.writeFileSync(path.join(run, 'metrics.jsonl'), whole.slice(0, 100));
  const r = runCli(['train', '--resume', run], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `prefdyn: ${esc(run)} has no checkpoint \\(the run stopped before its first\\): starting it again from step 0\n`,
    ),
  );
  assert.equal(readText(path.join(run, 'metrics.jsonl')), whole);

  fs.rmSync(path.join(run, 'checkpoints'), { recursive: true });
  fs.rmSync(path.join(run, 'summary.json'));
  const again = runCli(
    ['train', '--model', modelDir, '--data', data, ...common, '--steps', '4', '--save-every', '2', '--out', run],
    { env },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    new RegExp(
      `prefdyn: ${esc(run)} holds a run stopped before its first checkpoint: reusing the folder, starting from step 0\n`,
    ),
  );
  assert.equal(readText(path.join(run, 'metrics.jsonl')), whole);
});

test('--steps 0 is refused naming the option', () => {
  const r = runCli(
    ['train', '--model', model, '--data', fixture, ...common, '--steps', '0', '--out', path.join(tmp, 's0')],
    {
      env,
    },
  );
  assert.deepEqual(r, {
    code: 1,
    stdout: '',
    stderr:
      'prefdyn: --steps 0 (command line): a run needs at least one update; leave --steps out to train --epochs 1\n',
  });
});

test('--resume of a folder that holds no run says so in one line', () => {
  const nope = path.join(tmp, 'nope');
  const r = runCli(['train', '--resume', nope], { env });
  assert.deepEqual(r, {
    code: 1,
    stdout: '',
    stderr: `prefdyn: --resume ${nope}: not a run folder (no ${path.join(nope, 'config.json')})\n`,
  });
  assert.ok(!fs.existsSync(nope), 'nothing was created');
});

test('--force without --resume is a usage error', () => {
  const r = runCli(['train', '--model', model, '--data', fixture, '--force', '--out', path.join(tmp, 'force')], {
    env,
  });
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'prefdyn: --force applies to --resume only\n' });
});

test('a batch larger than the training split is refused before reference log-probs are computed', () => {
  const cache = path.join(tmp, 'batch-cache');
  const r = runCli(
    [
      'train',
      '--model',
      model,
      '--data',
      fixture,
      '--test-fraction',
      '0.25',
      '--mode',
      'lora',
      '--batch-size',
      '13',
      '--gradient-accumulation-steps',
      '1',
      '--out',
      path.join(tmp, 'batch'),
    ],
    { env: { PREFDYN_CACHE_DIR: cache } },
  );
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'prefdyn: the effective batch (--batch-size 13 x --gradient-accumulation-steps 1 = 13) is larger than the training split (12 pairs); lower --batch-size or --test-fraction\n',
  );
  const cached = fs.existsSync(cache) ? fs.readdirSync(cache, { recursive: true }).map(String) : [];
  assert.deepEqual(
    cached.filter((f) => !f.startsWith('file-hashes')),
    [],
    'no reference log-probs were computed and cached',
  );
});

test('config.json and summary.json record the version, kernels, BLAS, threads and node that computed the run', () => {
  const { run } = makeRun('provenance');
  const pkg = readJson(path.join(repoRoot, 'package.json'));
  const here = provenance();
  for (const file of ['config.json', 'summary.json']) {
    const p = readJson(path.join(run, file)).provenance;
    assert.deepEqual(p, here, file); // the child ran with this process's environment
    assert.equal(p.prefdyn, pkg.version, file);
    assert.equal(p.node, process.version, file);
    if (p.kernels === 'native') {
      assert.match(String(p.blas?.config), /OpenBLAS/, file);
      assert.ok(Number.isInteger(p.threads) && p.threads >= 1, file);
    } else {
      assert.deepEqual([p.blas, p.threads], [null, 1], file);
    }
  }
  const groups = readJson(path.join(run, 'config.json')).fingerprints.data.groups;
  assert.deepEqual(Object.keys(groups), ['alpha', 'beta']);
  assert.deepEqual([groups.alpha.n, groups.beta.n], [8, 8]);
});

test('a full disk during the metrics append ends the run with one line naming the file', () => {
  const run = path.join(tmp, 'full');
  fs.mkdirSync(run);
  fs.symlinkSync('/dev/full', path.join(run, 'metrics.jsonl'));
  const writer = new MetricsWriter(run);
  try {
    assert.throws(
      () => writer.append([{ step: 0, epoch: 0, split: 'train', group: 'all', n: 1, loss: 1 }]),
      (err: Error) => {
        assert.ok(err instanceof UserError);
        assert.equal(
          err.message,
          `${path.join(run, 'metrics.jsonl')}: no space left on device (ENOSPC); the run stopped, its checkpoints are intact (continue with --resume ${run})`,
        );
        return true;
      },
    );
  } finally {
    writer.close();
  }
});

test('a metrics.jsonl that cannot be cut back on resume is a one-line error naming the file', () => {
  const run = path.join(tmp, 'uncut');
  fs.mkdirSync(run);
  fs.symlinkSync('/dev/full', path.join(run, 'metrics.jsonl'));
  assert.throws(
    () => new MetricsWriter(run, 10),
    (err: Error) =>
      err instanceof UserError &&
      err.message.startsWith(`${path.join(run, 'metrics.jsonl')}: cannot open for writing: EINVAL: invalid argument`),
  );
});

test('--resume after a torn last metrics line (a full disk) continues the file exactly', () => {
  const { run } = makeRun('torn');
  const whole = readText(path.join(run, 'metrics.jsonl'));
  fs.rmSync(checkpointDir(run, 4), { recursive: true });
  const cut = readJson(path.join(checkpointDir(run, 2), 'trainer_state.json')).metrics_bytes as number;
  fs.writeFileSync(path.join(run, 'metrics.jsonl'), whole.slice(0, cut) + whole.slice(cut, cut + 37));
  const r = runCli(['train', '--resume', run], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readText(path.join(run, 'metrics.jsonl')), whole);
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
