// 16-bit float storage: F16 (IEEE binary16) and BF16 (the top half of an F32), as safetensors names them.
// Frozen weights may be kept in these types (half the memory of F32); every computation converts them
// to F32 first (kernels decode tiles on the fly) and accumulates in F32.

export type HalfDtype = 'F16' | 'BF16';

/** A tensor's elements stored as 16-bit floats: the raw little-endian bits, row-major. */
export interface HalfStorage {
  readonly dtype: HalfDtype;
  readonly bits: Uint16Array;
}

export function isHalfStorage(x: unknown): x is HalfStorage {
  return typeof x === 'object' && x !== null && (x as { bits?: unknown }).bits instanceof Uint16Array;
}

// Scratch views to read and write a float's bits.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** BF16 bits -> float: BF16 is the top half of an F32. */
export function bf16BitsToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

/** Float -> BF16 bits, rounding to nearest, ties to even; NaN stays NaN (quiet). */
export function f32ToBf16Bits(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** F16 bits -> float (IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits). */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Float -> F16 bits, rounding to nearest, ties to even; overflow gives infinity, NaN stays NaN. */
export function f32ToF16Bits(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp32 = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp32 === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp32 - 127 + 15; // the F16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  let shift: number;
  let result: number;
  if (e <= 0) {
    // F16 subnormal: value = m / 2^24, so m = (1.mant) * 2^(e - 1 + 10) = mant24 >> (14 - e).
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    mant |= 0x800000;
    shift = 14 - e;
    result = mant >>> shift;
  } else {
    shift = 13;
    result = (e << 10) | (mant >>> 13);
  }
  const rem = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > half || (rem === half && (result & 1) === 1)) result++;
  return sign | result;
}

let f16Table: Float32Array | undefined;

/** All 65,536 F16 values as floats, built once: decoding is a table lookup per element. */
function f16ToF32Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32(i);
  }
  return f16Table;
}

/** out[0..count) = F32 values of src[0..count) (16-bit bits of `dtype`); exact (every 16-bit value is an F32). */
export function decodeHalf(dtype: HalfDtype, src: Uint16Array, out: Float32Array, count = src.length): void {
  if (dtype === 'F16') {
    const table = f16ToF32Table();
    for (let i = 0; i < count; i++) out[i] = table[src[i]!]!;
  } else {
    const u = new Uint32Array(out.buffer, out.byteOffset, count);
    for (let i = 0; i < count; i++) u[i] = src[i]! << 16;
  }
}

/** A new Float32Array holding the values of a 16-bit storage. */
export function halfToF32(h: HalfStorage): Float32Array {
  const out = new Float32Array(h.bits.length);
  decodeHalf(h.dtype, h.bits, out);
  return out;
}

/** `data` rounded to a 16-bit dtype (nearest, ties to even). */
export function f32ToHalf(dtype: HalfDtype, data: Float32Array): HalfStorage {
  const convert = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  const bits = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) bits[i] = convert(data[i]!);
  return { dtype, bits };
}
