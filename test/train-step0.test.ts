// Step 0 is logged before any update with loss = ln 2 exactly, in every mode and on both kernel sets:
// the step-0 policy is the reference, so its log-probs are the reference's by construction (not by
// the luck of the batches rounding alike). The data has free-text responses of different lengths and a
// batch size that does not divide it, so training batches, test batches and the reference pass all pad
// and group the sequences differently.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, fixturesDir } from './helpers/cli.js';
import { loadNativeKernels } from '../src/tensor/kernels/native/load.js';
import { Rng } from '../src/util/rng.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-step0-');
const model = path.join(tmp, 'gpt2');
const data = path.join(tmp, 'free.jsonl');
const native = loadNativeKernels();

before(() => {
  const r = runCli([
    'model',
    'init',
    '--arch',
    'gpt2',
    '--size',
    'd=64,layers=2,heads=4',
    '--tokenizer',
    path.join(fixturesDir, 'tokenizers', 'gpt2-small'),
    '--out',
    model,
    '--seed',
    '3',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const words = 'the a cat dog runs fast slow over under bright dark tree sky red blue green house river stone'.split(
    ' ',
  );
  const rng = new Rng(11);
  const phrase = (min: number, max: number) =>
    Array.from({ length: min + rng.int(max - min + 1) }, () => words[rng.int(words.length)]).join(' ');
  const lines = Array.from({ length: 24 }, (_, i) =>
    JSON.stringify({
      id: `p${i}`,
      group: i % 2 ? 'g1' : 'g2',
      prompt: `${phrase(2, 10)}\n`,
      chosen: ` ${phrase(1, 6)}`,
      rejected: ` ${phrase(1, 6)}`,
    }),
  );
  fs.writeFileSync(data, lines.join('\n') + '\n');
});

for (const kernelSet of ['js', 'native'] as const) {
  test(
    `step 0 logs loss = ln 2 exactly for every split and group in full, lora and last-layer modes (${kernelSet} kernels)`,
    { skip: kernelSet === 'native' && !native.kernels ? `native kernels unavailable: ${native.reason}` : false },
    () => {
      for (const mode of ['full', 'lora', 'last-layer']) {
        const run = path.join(tmp, `${kernelSet}-${mode}`);
        // LoRA runs the robust objective (conservative DPO, eps 0.1): ln 2 at h = 0 too.
        const objective = mode === 'lora' ? 'robust' : 'dpo';
        const r = runCli(
          [
            'train',
            '--model',
            model,
            '--data',
            data,
            '--mode',
            mode,
            '--objective',
            objective,
            '--lora-targets',
            'c_attn',
            '--test-fraction',
            '0.25',
            '--batch-size',
            '5',
            '--gradient-accumulation-steps',
            '2',
            '--steps',
            '1',
            '--lr',
            '0.01',
            '--out',
            run,
          ],
          { env: { PREFDYN_KERNELS: kernelSet, PREFDYN_CACHE_DIR: path.join(tmp, `cache-${kernelSet}`) } },
        );
        assert.equal(r.code, 0, r.stderr);
        const lines = fs
          .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        const step0 = lines.filter((l) => l.step === 0);
        assert.deepEqual(step0.map((l) => `${l.split}/${l.group}`).sort(), [
          'test/all',
          'test/g1',
          'test/g2',
          'train/all',
          'train/g1',
          'train/g2',
        ]);
        for (const l of step0) {
          assert.equal(l.loss, Math.LN2, `${mode} ${l.split}/${l.group}`);
          assert.equal(l['rewards/margins'], 0, `${mode} ${l.split}/${l.group}`);
        }
        // The step-1 test lines score the updated policy itself.
        assert.ok(
          lines.some((l) => l.step === 1 && l.split === 'test' && l.loss !== Math.LN2),
          `${mode}: the update moved the test loss`,
        );
      }
    },
  );
}
