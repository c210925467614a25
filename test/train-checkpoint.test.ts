// Checkpoint safety: a write failure (full disk) leaves earlier checkpoints intact and no partial
// folder; a non-finite loss stops the run with the step and group, keeping the last good weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../src/util/rng.js';
import { writeCheckpoint, readCheckpoint, listCheckpoints } from '../src/train/checkpoint.js';
import { lastLayerPolicy, singleTokenFeatures } from '../src/train/last-layer.js';
import { resolveConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { UserError } from '../src/util/errors.js';
import { tempDir } from './helpers/temp.js';

const V = 4,
  d = 3,
  N = 8;

function policyWith(g: Float32Array, save: (dir: string) => Promise<void>) {
  const w0 = Float32Array.from({ length: V * d }, (_, i) => Math.sin(i));
  return lastLayerPolicy({
    w0,
    vocabSize: V,
    weightDecay: 0,
    description: 't',
    save: async (dir) => save(dir),
    features: singleTokenFeatures(
      g,
      d,
      Int32Array.from({ length: N }, () => 1),
      Int32Array.from({ length: N }, () => 2),
    ),
  });
}
const state = (step: number) => ({
  step,
  epoch: 0,
  total_steps: 9,
  data_order: { seed: 1, shuffle: true, effective_batch: 4, next_step: step },
  rng: new Rng(1).getState(),
  metrics_bytes: 0,
});

test('a failing write (ENOSPC) keeps the previous checkpoint intact and leaves no partial folder', async () => {
  const run = tempDir('prefdyn-ckpt-');
  const g = Float32Array.from({ length: N * d }, (_, i) => Math.cos(i));
  const ok = policyWith(g, async (dir) => fs.writeFileSync(path.join(dir, 'weights.bin'), 'good'));
  const opt = { step: 2, buffers: new Map([['w/momentum_buffer', Float32Array.of(1, 2, 3)]]) };
  await writeCheckpoint(run, ok, opt, state(2));
  const full = policyWith(g, async (dir) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), 'partial');
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  await assert.rejects(writeCheckpoint(run, full, opt, state(4)), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.equal(
      err.message,
      `could not write checkpoint ${path.join(run, 'checkpoints', 'step-4')} (ENOSPC: no space left on device, write); earlier checkpoints are intact`,
    );
    return true;
  });
  assert.deepEqual(fs.readdirSync(path.join(run, 'checkpoints')), ['step-2']);
  assert.equal(listCheckpoints(run).at(-1)?.dir, path.join(run, 'checkpoints', 'step-2'));
  assert.equal(fs.readFileSync(path.join(run, 'checkpoints', 'step-2', 'weights.bin'), 'utf8'), 'good');
  const back = readCheckpoint(path.join(run, 'checkpoints', 'step-2'));
  assert.equal(back.state.step, 2);
  assert.equal(back.optimizer.step, 2);
  assert.deepEqual(Array.from(back.optimizer.buffers.get('w/momentum_buffer')!), [1, 2, 3]);
});

test('a non-finite loss stops the run with the step and the group, after saving the last good weights', async () => {
  const run = tempDir('prefdyn-nan-');
  const g = Float32Array.from({ length: N * d }, (_, i) => Math.cos(i));
  g[5 * d] = Infinity; // pair 5 (group "b"): its logits, log-probs and loss are not finite
  const saved: string[] = [];
  const policy = policyWith(g, async (dir) => {
    saved.push(dir);
    fs.writeFileSync(path.join(dir, 'w.bin'), '');
  });
  const all = Array.from({ length: N }, (_, i) => i);
  const { config } = resolveConfig(undefined, {
    model: 'm',
    data: 'x.jsonl',
    out: run,
    mode: 'last-layer',
    steps: '3',
    batch_size: String(N),
    no_shuffle: true,
  });
  await assert.rejects(
    train({
      config,
      runDir: run,
      policy,
      data: {
        groups: all.map((i) => (i < 4 ? 'a' : 'b')),
        train: all,
        test: [],
        refChosen: new Float64Array(N),
        refRejected: new Float64Array(N),
        startsAtReference: false,
      },
    }),
    (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.equal(
        err.message,
        `non-finite loss or log-prob in group "b" at step 0; stopped before the update, last good weights saved in ${path.join(run, 'checkpoints', 'step-0')}`,
      );
      return true;
    },
  );
  assert.ok(fs.existsSync(path.join(run, 'checkpoints', 'step-0', 'trainer_state.json')));
});
