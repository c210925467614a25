// Finite-difference gradient check for any function of tensors built from prefdyn ops.
// The scalar checked is L = sum_i out_i * r_i with a fixed random r, so every output element carries a
// different weight (a plain sum would hide errors that cancel). Analytic gradients come from the tape;
// numeric ones from central differences of L in float64 over float32 forward passes.
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { backward, noGrad, resetTape } from '../../src/tensor/autograd.js';
import { mul, sum } from '../../src/tensor/ops/index.js';
import { Rng } from '../../src/util/rng.js';

export interface GradcheckOptions {
  /** Perturbation (default 1e-2: large enough that float32 rounding of L stays far below the signal). */
  eps?: number;
  /** Relative tolerance against max(|numeric|, |analytic|) (default 1e-2). */
  rtol?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Checks at most this many elements per input, chosen at random (default: all up to 64). */
  maxPerInput?: number;
  seed?: number;
}

function projection(out: Tensor, r: Float32Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += out.data[i]! * r[i]!;
  return s;
}

/**
 * Asserts that the gradients of `f()` with respect to every input with requiresGrad match central
 * differences. `f` must read the inputs' data afresh on each call (it is called with perturbed values)
 * and be deterministic (draw any randomness from a new seeded Rng inside f).
 */
export function gradcheck(f: () => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const { eps = 1e-2, rtol = 1e-2, atol = 1e-3, maxPerInput = 64, seed = 1 } = opts;
  const rng = new Rng(seed);
  resetTape();
  for (const t of inputs) t.grad = null;

  const out = f();
  const r = new Float32Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  backward(sum(mul(out, new Tensor(r, out.shape))));

  const failures: string[] = [];
  inputs.forEach((t, k) => {
    if (!t.requiresGrad) return;
    const name = t.name ?? `input ${k}`;
    assert.ok(t.grad, `gradcheck: ${name} received no gradient`);
    const analytic = t.grad.slice();
    const picks = t.size <= maxPerInput ? [...Array(t.size).keys()] : rng.permutation(t.size).slice(0, maxPerInput);
    for (const i of picks) {
      const orig = t.data[i]!;
      t.data[i] = orig + eps;
      const hi = t.data[i]!;
      const lp = noGrad(() => projection(f(), r));
      t.data[i] = orig - eps;
      const lo = t.data[i]!;
      const lm = noGrad(() => projection(f(), r));
      t.data[i] = orig;
      const numeric = (lp - lm) / (hi - lo);
      const a = analytic[i]!;
      if (!(Math.abs(numeric - a) <= atol + rtol * Math.max(Math.abs(numeric), Math.abs(a)))) {
        failures.push(`${name}[${i}]: analytic ${a}, numeric ${numeric}`);
      }
    }
  });
  resetTape();
  assert.equal(failures.length, 0, `gradient mismatch:\n${failures.slice(0, 10).join('\n')}`);
}
