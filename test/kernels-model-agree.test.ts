// A whole model on both kernel sets: the parity fixtures' Llama (grouped-query, tied) and GPT-2, forward
// and backward of the fixture loss on the TypeScript kernels and on the native ones; the logits, hidden
// states, loss and every parameter gradient agree within 1e-5 relative (max|a-b| / max|b|).
// Skipped where the native kernels are unavailable and not required (as kernels-native.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { backward } from '../src/tensor/autograd.js';
import { kernels, setKernels, type Kernels } from '../src/tensor/kernels/index.js';
import { jsKernels } from '../src/tensor/kernels/js/index.js';
import { loadNativeKernels, nativeBuildRecord } from '../src/tensor/kernels/native/load.js';
import { loadModel } from '../src/model/load.js';
import { assertClose, forwardBackwardNll, parityDir } from './helpers/parity.js';

const TOL = 1e-5;
const loaded = loadNativeKernels();
const required =
  process.env.PREFDYN_REQUIRE_NATIVE === '1' || (process.env.CI === 'true' && (nativeBuildRecord()?.openblas ?? true));
const skip = loaded.kernels || required ? false : `native kernels unavailable: ${loaded.reason}`;

interface Run {
  logits: Float32Array;
  hidden: Float32Array;
  loss: Float32Array;
  grads: Map<string, Float32Array>;
}

async function runOn(k: Kernels, fixture: string): Promise<Run> {
  const before = kernels();
  setKernels(k);
  try {
    const model = await loadModel(path.join(parityDir, fixture));
    for (const p of model.params().values()) p.requiresGrad = true;
    const { logits, hidden, loss } = forwardBackwardNll(model, backward);
    const grads = new Map(
      [...model.params()].map(([name, p]) => {
        assert.ok(p.grad, `${k.name}: ${name} received no gradient`);
        return [name, p.grad];
      }),
    );
    return { logits: logits.data, hidden: hidden.data, loss: loss.data, grads };
  } finally {
    setKernels(before);
  }
}

for (const fixture of ['llama-gqa-tied', 'gpt2']) {
  test(
    `native and TypeScript kernels agree on ${fixture}: logits, hidden, loss and every gradient within ${TOL}`,
    { skip },
    async () => {
      assert.ok(loaded.kernels, loaded.reason);
      const js = await runOn(jsKernels, fixture);
      const native = await runOn(loaded.kernels, fixture);
      assertClose('logits', native.logits, js.logits, TOL);
      assertClose('hidden', native.hidden, js.hidden, TOL);
      assertClose('loss', native.loss, js.loss, TOL);
      assert.deepEqual([...native.grads.keys()].sort(), [...js.grads.keys()].sort());
      for (const [name, g] of native.grads) assertClose(`grad ${name}`, g, js.grads.get(name), TOL);
    },
  );
}
