// Tensor construction and the tape: what is recorded, when it is cleared, and that saved activations
// are released as soon as their backward has run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Tensor, size } from '../src/tensor/tensor.js';
import { backward, gradOf, noGrad, record, resetTape, tapeLength } from '../src/tensor/autograd.js';
import { add, mul, square, sum } from '../src/tensor/ops/index.js';
import { Rng } from '../src/util/rng.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('Tensor: size, zeros, fromArray, randn (seeded), clone, item', () => {
  assert.equal(size([2, 3, 4]), 24);
  assert.equal(size([]), 1);
  const z = Tensor.zeros([2, 3], { name: 'z' });
  assert.deepEqual([...z.data], [0, 0, 0, 0, 0, 0]);
  assert.equal(z.describe(), 'z [2, 3]');
  const a = Tensor.randn([5], new Rng(3));
  const b = Tensor.randn([5], new Rng(3));
  assert.deepEqual(a.data, b.data);
  const c = a.clone();
  c.data[0] = 99;
  assert.notEqual(a.data[0], 99);
  assert.equal(Tensor.scalar(2.5).item(), 2.5);
  assert.throws(() => Tensor.fromArray([1, 2, 3], [2, 2]), {
    message: 'Tensor: 3 values do not fill shape [2, 2] (4 needed)',
  });
  assert.throws(() => Tensor.zeros([2, -1], { name: 'w' }), {
    message: 'w: shape [2, -1] must hold non-negative integers',
  });
  assert.throws(() => z.item(), { message: 'item(): z [2, 3] has 6 elements, expected 1' });
});

test('backward: accumulates into leaves, frees intermediate gradients, empties the tape', () => {
  resetTape();
  const x = Tensor.fromArray([1, 2, 3], [3], { requiresGrad: true });
  const y = mul(x, x); // used twice below: both paths add up
  const loss = sum(add(y, y));
  assert.equal(tapeLength(), 3);
  backward(loss);
  assert.deepEqual([...x.grad!], [4, 8, 12]); // d/dx 2x^2 = 4x
  assert.equal(y.grad, null);
  assert.equal(tapeLength(), 0);
  // a second step accumulates unless zeroed
  backward(sum(square(x)));
  assert.deepEqual([...x.grad!], [6, 12, 18]);
  // the trainer zeroes the buffer in place (train/gradients.ts zeroGrads); backward then writes into it again
  const buffer = x.grad!;
  buffer.fill(0);
  backward(sum(square(x)));
  assert.equal(x.grad, buffer);
  assert.deepEqual([...x.grad!], [2, 4, 6]);
});

test('noGrad records nothing, nested or not, and recording resumes after it', () => {
  resetTape();
  const x = Tensor.fromArray([1, 2], [2], { requiresGrad: true });
  const y = noGrad(() => square(x));
  assert.equal(tapeLength(), 0);
  assert.equal(y.requiresGrad, false);
  assert.equal(
    noGrad(() => noGrad(() => square(x)).requiresGrad),
    false,
  );
  assert.equal(tapeLength(), 0);
  const z = square(x);
  assert.equal(tapeLength(), 1);
  assert.equal(z.requiresGrad, true);
  resetTape();
  assert.equal(tapeLength(), 0);
  // inputs without requiresGrad are not recorded either
  square(Tensor.fromArray([1, 2]));
  assert.equal(tapeLength(), 0);
});

test('backward: errors name the problem and leave an empty tape', () => {
  resetTape();
  const x = Tensor.fromArray([1, 2], [2], { requiresGrad: true, name: 'x' });
  assert.throws(() => backward(square(x)), { message: 'backward: the loss must have one element, got tensor [2]' });
  assert.equal(tapeLength(), 0);
  const frozen = noGrad(() => sum(x));
  assert.throws(() => backward(frozen), {
    message:
      'backward: tensor [] was not computed by recorded ops (computed under noGrad, or from tensors without requiresGrad)',
  });
});

test('saved activations are released right after their backward runs', async () => {
  resetTape();
  const x = Tensor.fromArray([1, 2, 3], [3], { requiresGrad: true });
  // An op that saves a large buffer for its backward, as attention saves its probabilities.
  const makeOp = (): { out: Tensor; saved: WeakRef<Float32Array> } => {
    const activation = new Float32Array(1 << 20).fill(2);
    const out = record(
      new Tensor(
        x.data.map((v) => 2 * v),
        [3],
      ),
      [x],
      (g) => {
        const gx = gradOf(x)!;
        for (let i = 0; i < 3; i++) gx[i]! += g[i]! * activation[i]!;
      },
    );
    return { out, saved: new WeakRef(activation) };
  };
  const { out, saved } = makeOp();
  const loss = sum(out);
  await new Promise((r) => setImmediate(r));
  gc();
  assert.ok(saved.deref(), 'the tape keeps the activation alive until backward');
  backward(loss);
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(saved.deref(), undefined, 'the activation is collectable after backward');
  assert.deepEqual([...x.grad!], [2, 2, 2]);
});
