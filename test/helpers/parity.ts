// Reading the PyTorch parity fixtures (scripts/parity/make_fixtures.py) and comparing against them.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fixturesDir } from './cli.js';
import { SafetensorsFile } from '../../src/model/safetensors.js';
import { gatherLogProbs, reshape, scale, sum } from '../../src/tensor/ops/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { CausalLM } from '../../src/model/model.js';

export const parityDir = path.join(fixturesDir, 'parity');

/** The fixture batch of `dir` (default: the main one): ids [B,T] right-padded, loss targets [B*T] (-1 masked). */
export function parityInputs(dir = parityDir): { ids: Int32Array; targets: Int32Array; B: number; T: number } {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8')) as {
    ids: number[][];
    targets: number[][];
  };
  const B = json.ids.length;
  const T = json.ids[0]!.length;
  return { ids: Int32Array.from(json.ids.flat()), targets: Int32Array.from(json.targets.flat()), B, T };
}

/** Every tensor of a reference.safetensors. */
export function readReference(dir: string): Map<string, Float32Array> {
  const st = SafetensorsFile.open(path.join(dir, 'reference.safetensors'));
  try {
    return new Map(st.names().map((n) => [n, st.readF32(n)]));
  } finally {
    st.close();
  }
}

/** The fixtures' loss: mean negative log-likelihood of the unmasked targets. logits [B,T,V]. */
export function maskedNll(logits: Tensor, targets: Int32Array): Tensor {
  const [B, T, V] = logits.shape as [number, number, number];
  const count = targets.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0);
  return scale(sum(gatherLogProbs(reshape(logits, [B * T, V]), targets)), -1 / count);
}

/** max |a - b| / max |b|: the relative error, per tensor. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let diff = 0;
  let scaleB = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scaleB = Math.max(scaleB, Math.abs(b[i]!));
  }
  return scaleB === 0 ? diff : diff / scaleB;
}

export function assertClose(name: string, a: ArrayLike<number>, b: ArrayLike<number> | undefined, tol: number): void {
  assert.ok(b, `${name}: no reference`);
  const err = relativeError(a, b);
  assert.ok(err <= tol, `${name}: relative error ${err.toExponential(2)} > ${tol}`);
}

/** Forward + backward of the fixture loss over the batch in `inputsDir`; returns logits, hidden and loss. */
export function forwardBackwardNll(
  model: CausalLM,
  backward: (loss: Tensor) => void,
  inputsDir = parityDir,
): { logits: Tensor; hidden: Tensor; loss: Tensor } {
  const { ids, targets, B, T } = parityInputs(inputsDir);
  const { hidden, logits } = model.forward(ids, B, T);
  const loss = maskedNll(logits!, targets);
  backward(loss);
  return { logits: logits!, hidden, loss };
}
