// Shape ops: views and copies that move values without arithmetic; gradients move them back.
import { Tensor, size } from '../tensor.js';
import { record, gradOf, accumulateGrad } from '../autograd.js';
import { rowMajorStrides, stridedPositions } from './strided.js';

function normaliseAxis(axis: number, rank: number, op: string, x: Tensor): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(Number.isInteger(a) && a >= 0 && a < rank))
    throw new Error(`${op}: axis ${axis} is out of range for ${x.describe()}`);
  return a;
}

/** Same values, new shape (one entry may be -1: inferred). Shares x's data; no copy. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const inferred = shape.indexOf(-1);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  let resolved = shape;
  if (inferred >= 0) {
    if (shape.indexOf(-1, inferred + 1) >= 0 || known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot infer [${shape.join(', ')}] for ${x.describe()}`);
    }
    resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (size(resolved) !== x.size)
    throw new Error(
      `reshape: ${x.describe()} has ${x.size} elements, [${resolved.join(', ')}] needs ${size(resolved)}`,
    );
  return record(new Tensor(x.data, resolved), [x], (g) => accumulateGrad(x, g));
}

/** transpose(x, perm): out.shape[d] = x.shape[perm[d]] (e.g. [B,T,H,hd] -> [B,H,T,hd] with [0,2,1,3]). */
export function transpose(x: Tensor, perm: number[]): Tensor {
  const seen = new Set(perm);
  if (
    perm.length !== x.rank ||
    seen.size !== x.rank ||
    perm.some((p) => !(Number.isInteger(p) && p >= 0 && p < x.rank))
  ) {
    throw new Error(`transpose: [${perm.join(', ')}] is not a permutation of the ${x.rank} axes of ${x.describe()}`);
  }
  const inStrides = rowMajorStrides(x.shape);
  // position i of the output reads x at map[i]
  const map = stridedPositions(
    perm.map((p) => x.shape[p]!),
    perm.map((p) => inStrides[p]!),
  );
  const X = x.data;
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = X[map[i]!]!;
  return record(
    new Tensor(
      out,
      perm.map((p) => x.shape[p]!),
    ),
    [x],
    (g) => {
      const gx = gradOf(x)!;
      for (let i = 0; i < g.length; i++) gx[map[i]!]! += g[i]!;
    },
  );
}

/** narrow(x, axis, start, length): positions start..start+length-1 along axis (a copy). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normaliseAxis(axis, x.rank, 'narrow', x);
  const n = x.shape[a]!;
  if (!(Number.isInteger(start) && Number.isInteger(length) && start >= 0 && length >= 0 && start + length <= n)) {
    throw new Error(`narrow: [${start}, ${start + length}) is outside axis ${a} (size ${n}) of ${x.describe()}`);
  }
  const outer = size(x.shape.slice(0, a));
  const inner = size(x.shape.slice(a + 1));
  const X = x.data;
  const out = new Float32Array(outer * length * inner);
  for (let o = 0; o < outer; o++) {
    const src = (o * n + start) * inner;
    out.set(X.subarray(src, src + length * inner), o * length * inner);
  }
  const shape = [...x.shape];
  shape[a] = length;
  return record(new Tensor(out, shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let o = 0; o < outer; o++) {
      const dst = (o * n + start) * inner;
      const src = o * length * inner;
      for (let i = 0; i < length * inner; i++) gx[dst + i]! += g[src + i]!;
    }
  });
}

/** slice(x, axis, start, end): positions start..end-1 along axis (end exclusive, as Array.slice). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  return narrow(x, axis, start, end - start);
}

/** concat(xs, axis): joins tensors that agree on every other axis. */
export function concat(xs: Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new Error('concat: needs at least one tensor');
  const a = normaliseAxis(axis, first.rank, 'concat', first);
  for (const x of xs) {
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`concat: ${x.describe()} does not match ${first.describe()} outside axis ${a}`);
    }
  }
  const outer = size(first.shape.slice(0, a));
  const inner = size(first.shape.slice(a + 1));
  const total = xs.reduce((p, x) => p + x.shape[a]!, 0);
  const out = new Float32Array(outer * total * inner);
  let offset = 0; // position along axis a where each input starts
  const offsets = xs.map((x) => {
    const start = offset;
    const run = x.shape[a]! * inner;
    for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * run, o * run + run), (o * total + start) * inner);
    offset += x.shape[a]!;
    return start;
  });
  const shape = [...first.shape];
  shape[a] = total;
  return record(new Tensor(out, shape), xs, (g) => {
    xs.forEach((x, k) => {
      const gx = gradOf(x);
      if (!gx) return;
      const run = x.shape[a]! * inner;
      for (let o = 0; o < outer; o++) {
        const src = (o * total + offsets[k]!) * inner;
        for (let i = 0; i < run; i++) gx[o * run + i]! += g[src + i]!;
      }
    });
  });
}
