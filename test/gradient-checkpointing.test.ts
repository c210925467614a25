// Gradient checkpointing (--gradient-checkpointing): the same gradients as keeping every activation,
// within float32 rounding (full and LoRA, dropout masks replayed), for Llama and GPT-2; far less memory
// held between the forward and the backward pass; and the train flag gives the run it gives without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { backward } from '../src/tensor/autograd.js';
import { mean } from '../src/tensor/ops/index.js';
import { initConfig, initWeights } from '../src/model/init.js';
import { modelFromWeights } from '../src/model/load.js';
import { LoraAdapter } from '../src/model/lora.js';
import type { CausalLM, ForwardOptions } from '../src/model/model.js';
import { Rng } from '../src/util/rng.js';
import { fixturesDir, runCli } from './helpers/cli.js';
import { relativeError } from './helpers/parity.js';
import { tempDir } from './helpers/temp.js';
import { initTinyLlama } from './helpers/tiny-model.js';

const VOCAB = 97;

function tinyModel(arch: 'llama' | 'gpt2', layers: number, d = 32): CausalLM {
  const config = initConfig(arch, { d, layers, heads: 4, ...(arch === 'llama' ? { kv: 2 } : {}) }, VOCAB);
  return modelFromWeights(config, initWeights(config, 5));
}

function inputs(B: number, T: number): Int32Array {
  const rng = new Rng(9);
  return Int32Array.from({ length: B * T }, () => rng.int(VOCAB));
}

/** Gradients of mean(logits) by parameter name, after one forward and backward with `opts`. */
function gradients(model: CausalLM, trained: Map<string, { grad: Float32Array | null }>, opts: ForwardOptions) {
  for (const p of trained.values()) p.grad = null;
  const ids = inputs(2, 12);
  backward(mean(model.forward(ids, 2, 12, opts).logits!));
  return new Map([...trained].map(([n, p]) => [n, Float32Array.from(p.grad!)]));
}

// Both paths run the same kernels on the same inputs; 1e-6 relative allows float32 rounding only.
function assertSameGradients(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, g] of a) {
    assert.ok(
      g.some((v) => v !== 0),
      `${name}: a zero gradient would make the comparison empty`,
    );
    const err = relativeError(b.get(name)!, g);
    assert.ok(err <= 1e-6, `${name}: relative difference ${err}`);
  }
}

for (const arch of ['llama', 'gpt2'] as const) {
  test(`gradient checkpointing, ${arch}, full: every parameter's gradient equals the kept-activation one`, () => {
    const model = tinyModel(arch, 3);
    for (const p of model.params().values()) p.requiresGrad = true;
    const plain = gradients(model, model.params(), {});
    const checkpointed = gradients(model, model.params(), { gradientCheckpointing: true });
    assertSameGradients(plain, checkpointed);
  });

  test(`gradient checkpointing, ${arch}, LoRA with dropout: the recomputation replays the dropout masks`, () => {
    const model = tinyModel(arch, 3);
    const targets = arch === 'llama' ? ['q_proj', 'v_proj', 'down_proj'] : ['c_attn', 'c_fc'];
    const adapter = LoraAdapter.create(
      model,
      { r: 4, alpha: 8, dropout: 0.3, targetModules: targets, useRslora: false },
      new Rng(1),
    );
    adapter.attachTo(model);
    for (const [n, p] of adapter.params()) {
      p.requiresGrad = true;
      if (n.includes('lora_B')) p.data.fill(0.05); // B = 0 would leave A without a gradient
    }
    const run = (gradientCheckpointing: boolean) => {
      const rng = new Rng(7);
      const g = gradients(model, adapter.params(), { training: true, rng, gradientCheckpointing });
      return { g, rngAfter: rng.getState() };
    };
    const plain = run(false);
    const checkpointed = run(true);
    assertSameGradients(plain.g, checkpointed.g);
    assert.deepEqual(checkpointed.rngAfter, plain.rngAfter, 'the dropout stream continues where it would have');
    for (const p of model.params().values()) assert.equal(p.grad, null, 'the frozen base gets no gradient');
  });
}

test('gradient checkpointing: the memory held between forward and backward drops to the layer inputs', () => {
  v8.setFlagsFromString('--expose-gc');
  // V8 frees dead array buffers on a background thread after a collection by default, so memoryUsage() read
  // right after gc() can still count them (a loaded machine made the checkpointed run read 7.4 MB). Swept in
  // the collection itself, they are gone when gc() returns.
  v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  const gc = vm.runInNewContext('gc') as () => void;
  const model = tinyModel('llama', 6, 64);
  for (const p of model.params().values()) p.requiresGrad = true;
  const ids = inputs(4, 96);
  // Bytes of array buffers alive after a forward pass whose loss is still to be differentiated.
  const held = (opts: ForwardOptions) => {
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const loss = mean(model.forward(ids, 4, 96, { ...opts, logits: 'none' }).hidden);
    gc();
    const bytes = process.memoryUsage().arrayBuffers - before;
    backward(loss);
    for (const p of model.params().values()) p.grad = null;
    return bytes;
  };
  const plain = held({});
  const checkpointed = held({ gradientCheckpointing: true });
  // Kept: 6 layers x (norms, q/k/v, attention probabilities [4,4,96,96], MLP [4,96,171] x 3, ...) ~ 9 MB;
  // checkpointed: 6 layer inputs [4,96,64] and the final norm's ~ 0.7 MB.
  assert.ok(plain > 4e6, `the kept activations take ${plain} bytes`);
  assert.ok(checkpointed < plain / 5, `checkpointed ${checkpointed} bytes against ${plain} kept`);
});

test('prefdyn train --gradient-checkpointing: the LoRA run logs what the run without it logs', () => {
  const tmp = tempDir('prefdyn-gc-');
  const model = path.join(tmp, 'model');
  initTinyLlama(model);
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
  const args = (out: string) => [
    'train',
    '--model',
    model,
    '--data',
    path.join(fixturesDir, 'train', 'pairs.jsonl'),
    '--mode',
    'lora',
    '--lr',
    '0.05',
    '--batch-size',
    '4',
    '--gradient-accumulation-steps',
    '2',
    '--steps',
    '3',
    '--eval-every',
    '0',
    '--out',
    path.join(tmp, out),
  ];
  const lines = (out: string) =>
    fs
      .readFileSync(path.join(tmp, out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>);
  assert.equal(runCli(args('plain'), { env }).code, 0);
  const r = runCli([...args('checkpointed'), '--gradient-checkpointing'], { env });
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(fs.readFileSync(path.join(tmp, 'checkpointed', 'config.json'), 'utf8'));
  assert.equal(config.config.gradient_checkpointing, true);
  assert.equal(config.sources.gradient_checkpointing, 'command line');
  const [a, b] = [lines('plain'), lines('checkpointed')];
  assert.equal(a.length, b.length);
  a.forEach((line, i) => {
    const other = b[i]!;
    assert.deepEqual(Object.keys(other), Object.keys(line));
    for (const [k, v] of Object.entries(line)) {
      if (typeof v !== 'number') assert.equal(other[k], v, k);
      else
        assert.ok(
          Math.abs((other[k] as number) - v) <= 1e-5 * (1 + Math.abs(v)),
          `line ${i} ${k}: ${v} vs ${other[k]}`,
        );
    }
  });
  assert.ok(
    a.some((l) => l.step === 3),
    'three updates were made',
  );
});
