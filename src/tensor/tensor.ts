// A tensor: a flat row-major Float32Array with a shape, and (for parameters and recorded op outputs)
// a gradient buffer of the same size, allocated lazily by the backward pass.
import type { Rng } from '../util/rng.js';

/** Number of elements of a shape (1 for the scalar shape []). */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// Below this many elements a zeroed allocation costs no more than an uninitialised one.
const UNINITIALISED_MIN = 4096;

/**
 * n floats with unspecified contents, for outputs a kernel overwrites entirely (beta = 0 GEMMs, "write"
 * kernels): skips the zero fill of a fresh Float32Array, measured at about 0.2 ms per 2 MB, ~10 ms per
 * training step of the benchmark GPT. Never use it for a buffer that is accumulated into.
 */
export function uninitialisedFloats(n: number): Float32Array {
  if (n < UNINITIALISED_MIN) return new Float32Array(n);
  return new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
}

function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`${what}: shape [${shape.join(', ')}] must hold non-negative integers`);
  }
}

export class Tensor {
  data: Float32Array;
  shape: number[];
  grad: Float32Array | null = null;
  requiresGrad: boolean;
  name?: string;

  constructor(data: Float32Array, shape: readonly number[], opts: { requiresGrad?: boolean; name?: string } = {}) {
    checkShape(shape, opts.name ?? 'Tensor');
    if (data.length !== size(shape)) {
      throw new Error(
        `${opts.name ?? 'Tensor'}: ${data.length} values do not fill shape [${shape.join(', ')}] (${size(shape)} needed)`,
      );
    }
    this.data = data;
    this.shape = [...shape];
    this.requiresGrad = opts.requiresGrad ?? false;
    if (opts.name !== undefined) this.name = opts.name;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor (a loss, a mean). */
  item(): number {
    if (this.data.length !== 1)
      throw new Error(`item(): ${this.describe()} has ${this.data.length} elements, expected 1`);
    return this.data[0]!;
  }

  /** A copy of the values with the same shape and flags; no gradient, not part of any graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, {
      requiresGrad: this.requiresGrad,
      ...(this.name !== undefined ? { name: this.name } : {}),
    });
  }

  /** "name [2, 3]" or "tensor [2, 3]", for error messages. */
  describe(): string {
    return `${this.name ?? 'tensor'} [${this.shape.join(', ')}]`;
  }

  static zeros(shape: readonly number[], opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    checkShape(shape, opts.name ?? 'Tensor.zeros');
    return new Tensor(new Float32Array(size(shape)), shape, opts);
  }

  static full(shape: readonly number[], value: number, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    checkShape(shape, opts.name ?? 'Tensor.full');
    return new Tensor(new Float32Array(size(shape)).fill(value), shape, opts);
  }

  /** From numbers; shape defaults to [values.length]. */
  static fromArray(
    values: ArrayLike<number>,
    shape: readonly number[] = [values.length],
    opts: { requiresGrad?: boolean; name?: string } = {},
  ): Tensor {
    return new Tensor(Float32Array.from(values), shape, opts);
  }

  /** Normal(0, std^2) values drawn from `rng`. */
  static randn(
    shape: readonly number[],
    rng: Rng,
    std = 1,
    opts: { requiresGrad?: boolean; name?: string } = {},
  ): Tensor {
    checkShape(shape, opts.name ?? 'Tensor.randn');
    const data = new Float32Array(size(shape));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    return new Tensor(data, shape, opts);
  }

  static scalar(value: number, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    return new Tensor(Float32Array.of(value), [], opts);
  }
}
