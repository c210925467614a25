import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrFactor } from '../src/train/schedules.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { clipGradNorm, globalGradNorm, type TrainParam } from '../src/train/gradients.js';

test('schedules follow transformers (constant/linear/cosine with warmup)', () => {
  const p = { warmupSteps: 4, totalSteps: 20 };
  assert.equal(lrFactor({ name: 'constant', ...p }, 0), 0);
  assert.equal(lrFactor({ name: 'constant', ...p }, 2), 0.5);
  assert.equal(lrFactor({ name: 'constant', ...p }, 15), 1);
  assert.equal(lrFactor({ name: 'linear', ...p }, 4), 1);
  assert.equal(lrFactor({ name: 'linear', ...p }, 12), 0.5);
  assert.equal(lrFactor({ name: 'linear', ...p }, 20), 0);
  assert.equal(lrFactor({ name: 'cosine', ...p }, 4), 1);
  assert.ok(Math.abs(lrFactor({ name: 'cosine', ...p }, 12) - 0.5) < 1e-15);
  assert.ok(Math.abs(lrFactor({ name: 'cosine', ...p }, 20)) < 1e-15);
  assert.equal(lrFactor({ name: 'constant', warmupSteps: 0, totalSteps: 5 }, 0), 1);
});

const param = (data: number[], grad: number[]): TrainParam => ({
  name: 'w',
  data: Float32Array.from(data),
  grad: Float32Array.from(grad),
});

test('SGD with momentum and weight decay matches torch.optim.SGD by hand', () => {
  const p = param([1, -2], [0.5, 0.25]);
  const opt = createOptimizer({
    name: 'sgd',
    weightDecay: 0.1,
    momentum: 0.9,
    adamBeta1: 0.9,
    adamBeta2: 0.999,
    adamEpsilon: 1e-8,
  });
  opt.update([p], 0.1);
  // d = g + wd w = [0.6, 0.05]; buf = d; w -= 0.1 d
  assert.deepEqual(Array.from(p.data), [Math.fround(1 - 0.06), Math.fround(-2 - 0.005)]);
  const w1 = Array.from(p.data);
  opt.update([p], 0.1);
  const d2 = [0.5 + 0.1 * w1[0]!, 0.25 + 0.1 * w1[1]!];
  const b2 = [0.9 * Math.fround(0.6) + d2[0]!, 0.9 * Math.fround(0.05) + d2[1]!];
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(p.data[i]! - (w1[i]! - 0.1 * b2[i]!)) < 1e-6);
});

test('AdamW first step moves every weight by lr (bias-corrected m/sqrt(v) = sign g) after decay', () => {
  const p = param([1, -2, 3], [0.5, -0.01, 7]);
  const opt = createOptimizer({
    name: 'adamw',
    weightDecay: 0.01,
    momentum: 0,
    adamBeta1: 0.9,
    adamBeta2: 0.999,
    adamEpsilon: 1e-8,
  });
  opt.update([p], 0.001);
  const want = [1 * (1 - 1e-5) - 0.001, -2 * (1 - 1e-5) + 0.001, 3 * (1 - 1e-5) - 0.001];
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p.data[i]! - want[i]!) < 2e-6, `${i}: ${p.data[i]} vs ${want[i]}`);
  assert.equal(opt.state.step, 1);
  assert.ok(opt.state.buffers.has('w/exp_avg') && opt.state.buffers.has('w/exp_avg_sq'));
});

test('clipping scales to max norm, returns the norm before, and 0 disables', () => {
  const a = param([0, 0], [3, 0]);
  const b = param([0], [4]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  assert.ok(Math.abs(globalGradNorm([a, b]) - 1) < 1e-6);
  const c = param([0], [4]);
  assert.equal(clipGradNorm([c], 0), 4);
  assert.equal(c.grad[0], 4);
});
