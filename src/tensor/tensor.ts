// A tensor: a flat row-major Float32Array with a shape, and (for parameters and recorded op outputs)
// a gradient buffer of the same size, allocated lazily by the backward pass.
// Storage: F32 (`data`), or, for frozen weights, 16-bit (`half`: F16/BF16 bits, half the memory). The ops
// that read weights (linear, matmul, embedding) accept a 16-bit tensor as it is and convert tiles on the
// fly; anything else that reads `data` of a 16-bit tensor converts it to F32 once, for good (so does
// making it trainable: trainable weights are always F32). A device buffer can later stand behind a
// tensor the same way: the storage is private, reached through `data` / `half`.
import type { Rng } from '../util/rng.js';
import { halfToF32, isHalfStorage, type HalfDtype, type HalfStorage } from './half.js';

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
  shape: number[];
  grad: Float32Array | null = null;
  name?: string;
  private f32: Float32Array | undefined;
  private h: HalfStorage | undefined;
  private trainable = false;
  private readonly n: number;

  constructor(
    data: Float32Array | HalfStorage,
    shape: readonly number[],
    opts: { requiresGrad?: boolean; name?: string } = {},
  ) {
    checkShape(shape, opts.name ?? 'Tensor');
    const length = isHalfStorage(data) ? data.bits.length : data.length;
    if (length !== size(shape)) {
      throw new Error(
        `${opts.name ?? 'Tensor'}: ${length} values do not fill shape [${shape.join(', ')}] (${size(shape)} needed)`,
      );
    }
    if (isHalfStorage(data)) this.h = data;
    else this.f32 = data;
    this.n = length;
    this.shape = [...shape];
    if (opts.name !== undefined) this.name = opts.name;
    this.requiresGrad = opts.requiresGrad ?? false;
  }

  /** The values as F32; a 16-bit tensor is converted on first read and stays F32 from then on. */
  get data(): Float32Array {
    if (!this.f32) {
      this.f32 = halfToF32(this.h!);
      this.h = undefined;
    }
    return this.f32;
  }

  set data(values: Float32Array) {
    if (values.length !== this.n) throw new Error(`${this.describe()}: ${values.length} values assigned`);
    this.f32 = values;
    this.h = undefined;
  }

  /** The 16-bit storage of a frozen weight kept in F16/BF16; undefined once the tensor is F32. */
  get half(): HalfStorage | undefined {
    return this.h;
  }

  /** The element type the values are held in now. */
  get dtype(): 'F32' | HalfDtype {
    return this.h ? this.h.dtype : 'F32';
  }

  /** The stored values: the F32 array, or the 16-bit storage (for writing a checkpoint in its own dtype). */
  get stored(): Float32Array | HalfStorage {
    return this.h ?? this.f32!;
  }

  /** Whether the backward pass computes this tensor's gradient; setting it on a 16-bit tensor makes it F32. */
  get requiresGrad(): boolean {
    return this.trainable;
  }

  set requiresGrad(on: boolean) {
    if (on && this.h) void this.data;
    this.trainable = on;
  }

  get size(): number {
    return this.n;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor (a loss, a mean). */
  item(): number {
    if (this.n !== 1) throw new Error(`item(): ${this.describe()} has ${this.n} elements, expected 1`);
    return this.data[0]!;
  }

  /** A copy of the values (in the same storage type) with the same shape and flags; no gradient, not part of any graph. */
  clone(): Tensor {
    const copy = this.h ? { dtype: this.h.dtype, bits: this.h.bits.slice() } : this.f32!.slice();
    return new Tensor(copy, this.shape, {
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
