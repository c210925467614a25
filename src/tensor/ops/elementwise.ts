// Elementwise arithmetic. Binary ops broadcast (see broadcast.ts); scalar ops take a JS number.
import { Tensor, uninitialisedFloats } from '../tensor.js';
import { record, gradOf, accumulateGrad } from '../autograd.js';
import { broadcastShapes } from './broadcast.js';

type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

/**
 * An elementwise op y = f(x) with dy/dx = df(x, y), for the small tensors the losses and metrics use
 * (one call per element; the hot nonlinearities of the models are fused kernels instead).
 */
export function pointwise(x: Tensor, f: (v: number) => number, df: (v: number, y: number) => number): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = f(X[i]!);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i]! += g[i]! * df(X[i]!, out[i]!);
  });
}

function binary(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  const { shape, n, ia, ib } = broadcastShapes(a, b, kind);
  const A = a.data;
  const B = b.data;
  const out = uninitialisedFloats(n); // every element written below
  switch (kind) {
    case 'add':
      // residual adds (no broadcast) are the hot case: a plain loop V8 compiles tightly
      if (!ia && !ib) for (let i = 0; i < n; i++) out[i] = A[i]! + B[i]!;
      else for (let i = 0; i < n; i++) out[i] = A[ia ? ia[i]! : i]! + B[ib ? ib[i]! : i]!;
      break;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = A[ia ? ia[i]! : i]! - B[ib ? ib[i]! : i]!;
      break;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = A[ia ? ia[i]! : i]! * B[ib ? ib[i]! : i]!;
      break;
    case 'div':
      for (let i = 0; i < n; i++) out[i] = A[ia ? ia[i]! : i]! / B[ib ? ib[i]! : i]!;
      break;
  }
  return record(new Tensor(out, shape), [a, b], (g) => {
    // d(a+b) = (1, 1); d(a-b) = (1, -1); d(ab) = (b, a); d(a/b) = (1/b, -a/b^2).
    // b first: then, where g passes to a unchanged (add, sub, a not broadcast), a may take g as its own.
    const bPassThrough = kind === 'add' && !ib;
    if (bPassThrough && b.requiresGrad) {
      // b's first gradient is g itself: a copy (memcpy) where a may take g too, not zeros plus a loop
      accumulateGrad(b, b.grad === null && a.requiresGrad ? g.slice() : g);
    }
    const gb = bPassThrough ? null : gradOf(b);
    if (gb) {
      switch (kind) {
        case 'add':
          for (let i = 0; i < n; i++) gb[ib ? ib[i]! : i]! += g[i]!;
          break;
        case 'sub':
          for (let i = 0; i < n; i++) gb[ib ? ib[i]! : i]! -= g[i]!;
          break;
        case 'mul':
          for (let i = 0; i < n; i++) gb[ib ? ib[i]! : i]! += g[i]! * A[ia ? ia[i]! : i]!;
          break;
        case 'div':
          for (let i = 0; i < n; i++) {
            const y = B[ib ? ib[i]! : i]!;
            gb[ib ? ib[i]! : i]! -= (g[i]! * A[ia ? ia[i]! : i]!) / (y * y);
          }
          break;
      }
    }
    if (!ia && (kind === 'add' || kind === 'sub')) {
      accumulateGrad(a, g);
      return;
    }
    const ga = gradOf(a);
    if (ga) {
      switch (kind) {
        case 'add':
        case 'sub':
          for (let i = 0; i < n; i++) ga[ia ? ia[i]! : i]! += g[i]!;
          break;
        case 'mul':
          for (let i = 0; i < n; i++) ga[ia ? ia[i]! : i]! += g[i]! * B[ib ? ib[i]! : i]!;
          break;
        case 'div':
          for (let i = 0; i < n; i++) ga[ia ? ia[i]! : i]! += g[i]! / B[ib ? ib[i]! : i]!;
          break;
      }
    }
  });
}

/** a + b, broadcasting. */
export function add(a: Tensor, b: Tensor): Tensor {
  return binary('add', a, b);
}
/** a - b, broadcasting. */
export function sub(a: Tensor, b: Tensor): Tensor {
  return binary('sub', a, b);
}
/** a * b elementwise, broadcasting. */
export function mul(a: Tensor, b: Tensor): Tensor {
  return binary('mul', a, b);
}
/** a / b elementwise, broadcasting. */
export function div(a: Tensor, b: Tensor): Tensor {
  return binary('div', a, b);
}

/** c * x. */
export function scale(x: Tensor, c: number): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = X[i]! * c;
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i]! += g[i]! * c;
  });
}

/** -x. */
export function neg(x: Tensor): Tensor {
  return scale(x, -1);
}

/** x + c. */
export function addScalar(x: Tensor, c: number): Tensor {
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = X[i]! + c;
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i]! += g[i]!;
  });
}

/** x^2. */
export function square(x: Tensor): Tensor {
  return pointwise(
    x,
    (v) => v * v,
    (v) => 2 * v,
  );
}

/** sqrt(x); d/dx = 1 / (2 sqrt(x)). */
export function sqrt(x: Tensor): Tensor {
  return pointwise(x, Math.sqrt, (_, y) => 1 / (2 * y));
}

/** min(max(x, lo), hi); the gradient passes where lo <= x <= hi (as PyTorch's clamp). */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new Error(`clamp: lo (${lo}) must not exceed hi (${hi})`);
  const X = x.data;
  const out = new Float32Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = Math.min(Math.max(X[i]!, lo), hi);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) if (X[i]! >= lo && X[i]! <= hi) gx[i]! += g[i]!;
  });
}
