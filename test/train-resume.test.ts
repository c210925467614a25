// --resume restores everything that decides a run: the data-source options (a --group-field run resumes
// on the same groups), the list of checkpoints in summary.json, and, after a stop for a non-finite
// gradient, the metrics length and dropout RNG from before the failed step. A finished run is left alone.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, fixturesDir } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { resolveConfig } from '../src/train/config.js';
import { checkpointDir, readCheckpoint } from '../src/train/checkpoint.js';
import { NonFiniteError, train, type TrainData } from '../src/train/trainer.js';
import type { Policy } from '../src/train/policy.js';
import type { Rng } from '../src/util/rng.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-resume-');
const model = path.join(tmp, 'tiny');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
// The fixture's groups moved to a "topic" column: without --group-field every pair is in group "g" (the file name).
const data = path.join(tmp, 'g.jsonl');
const args = [
  '--model',
  model,
  '--data',
  data,
  '--group-field',
  'topic',
  '--test-fraction',
  '0.25',
  '--batch-size',
  '4',
  '--mode',
  'last-layer',
  '--lr',
  '40',
  '--steps',
  '4',
  '--save-every',
  '2',
];
const readText = (file: string) => fs.readFileSync(file, 'utf8');

before(() => {
  const rows = readText(path.join(fixturesDir, 'train', 'pairs.jsonl'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  fs.writeFileSync(data, rows.map(({ group, ...rest }) => JSON.stringify({ ...rest, topic: group })).join('\n') + '\n');
  initTinyLlama(model);
});

// Two runs of the same --group-field options: "whole" runs through; "cut" loses its last checkpoint and is resumed from step 2.
const whole = path.join(tmp, 'whole');
const cut = path.join(tmp, 'cut');
let resumed: ReturnType<typeof runCli>;

test('--resume of a --group-field run reads the same groups and equals the whole run byte for byte', () => {
  assert.equal(runCli(['train', ...args, '--out', whole], { env }).code, 0);
  assert.equal(runCli(['train', ...args, '--out', cut], { env }).code, 0);
  fs.rmSync(checkpointDir(cut, 4), { recursive: true });
  resumed = runCli(['train', '--resume', cut], { env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /^completed 4\/4 steps/);
  const metrics = readText(path.join(cut, 'metrics.jsonl'));
  assert.equal(metrics, readText(path.join(whole, 'metrics.jsonl')));
  const groups = new Set(
    metrics
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.step === 4)
      .map((l) => l.group),
  );
  assert.deepEqual([...groups].sort(), ['all', 'alpha', 'beta']);
  assert.deepEqual(JSON.parse(readText(path.join(cut, 'config.json'))).source, {
    skip_invalid: false,
    fields: { group: 'topic' },
  });
});

test('summary.json of a resumed run lists the checkpoints from before the resume too', () => {
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(readText(path.join(cut, 'summary.json')));
  assert.deepEqual(summary.checkpoints, [path.join('checkpoints', 'step-2'), path.join('checkpoints', 'step-4')]);
});

test('--resume of a finished run says so, exits 0 and leaves summary.json as it was', () => {
  const before = readText(path.join(whole, 'summary.json'));
  assert.notEqual(JSON.parse(before).final_test, undefined);
  const done = runCli(['train', '--resume', whole], { env });
  assert.deepEqual(done, { code: 0, stdout: `already complete: 4/4 steps; run folder ${whole}\n`, stderr: '' });
  assert.equal(readText(path.join(whole, 'summary.json')), before);
});

test('--resume refuses data-source options: the saved ones are used', () => {
  const r = runCli(['train', '--resume', whole, '--group-field', 'id', '--skip-invalid'], { env });
  assert.equal(r.code, 2, 'wrong usage');
  assert.equal(
    r.stderr,
    'prefdyn: --resume takes no other options (got --skip-invalid, --group-field): the run continues with its saved config.json\n',
  );
});

/**
 * A policy of one weight w whose log-probs are (w + noise) * (chosen +1, rejected -1) with dropout-like
 * noise drawn from the trainer's RNG; from update `badFrom` on, its gradient is NaN (the loss stays finite).
 */
function scalarPolicy(w: number, badFrom = Infinity): Policy & { entryStates: ReturnType<Rng['getState']>[] } {
  const param = { name: 'w', data: Float32Array.of(w), grad: new Float32Array(1) };
  let updates = 0;
  const entryStates: ReturnType<Rng['getState']>[] = [];
  return {
    params: [param],
    description: 'scalar',
    entryStates,
    logps(indices, training, rng) {
      if (training) entryStates.push(rng.getState());
      const x = param.data[0]! + (training ? 0.1 * rng.uniform() : 0);
      return {
        chosen: Float64Array.from(indices, (i) => x * (1 + i)),
        rejected: Float64Array.from(indices, (i) => -x * (1 + i)),
        logitSums: { chosen: new Float64Array(indices.length), rejected: new Float64Array(indices.length) },
        tokens: { chosen: new Int32Array(indices.length).fill(1), rejected: new Int32Array(indices.length).fill(1) },
      };
    },
    backward(dChosen, dRejected) {
      param.grad[0]! +=
        updates++ >= badFrom
          ? NaN
          : dChosen.reduce((s, d, k) => s + d * (1 + k), 0) - dRejected.reduce((s, d, k) => s + d * (1 + k), 0);
    },
    weightNorms: () => ({ w: param.data[0]! }),
    async save(dir) {
      fs.writeFileSync(path.join(dir, 'w.json'), JSON.stringify(param.data[0]));
    },
  };
}

test('a stop for a non-finite gradient checkpoints the metrics length and RNG from before the step; --resume equals the whole run', async () => {
  const { config } = resolveConfig(undefined, {
    model: 'm',
    data: 'd',
    out: 'o',
    mode: 'last-layer',
    batch_size: 2,
    steps: 4,
    eval_every: 0,
    lr: 0.5,
  });
  const data: TrainData = {
    groups: ['a', 'b', 'a', 'b'],
    train: [0, 1, 2, 3],
    test: [],
    refChosen: new Float64Array(4),
    refRejected: new Float64Array(4),
    startsAtReference: false,
  };
  const run = (name: string) => {
    fs.mkdirSync(path.join(tmp, name));
    return path.join(tmp, name);
  };

  const whole = run('scalar-whole');
  await train({ config, runDir: whole, policy: scalarPolicy(0.2), data });

  const cut = run('scalar-cut');
  const bad = scalarPolicy(0.2, 2);
  await assert.rejects(train({ config, runDir: cut, policy: bad, data }), NonFiniteError);
  const lines = readText(path.join(cut, 'metrics.jsonl'));
  assert.match(lines, /"step":2,"epoch":[^,]+,"split":"train"/, "the failed step's train lines are kept for diagnosis");
  const saved = readCheckpoint(checkpointDir(cut, 2));
  assert.equal(saved.state.metrics_bytes, Buffer.byteLength(lines.slice(0, lines.indexOf('{"step":2,'))));
  assert.deepEqual(saved.state.rng, bad.entryStates[2]);

  const resumed = scalarPolicy(Number(readText(path.join(checkpointDir(cut, 2), 'w.json'))));
  await train({ config, runDir: cut, policy: resumed, data, resume: saved });
  assert.equal(readText(path.join(cut, 'metrics.jsonl')), readText(path.join(whole, 'metrics.jsonl')));
});
