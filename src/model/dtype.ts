// Element types of safetensors files (the format's own names) and their conversion to and from
// Float32. The engine computes in F32; F16 and BF16 are storage formats only. Byte order is
// little-endian, as the format requires (and as every host Node.js runs on here is).

export type Dtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL'
  | 'F8_E4M3'
  | 'F8_E5M2';

/** The dtypes prefdyn can turn into Float32Array. */
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';
/** The dtypes prefdyn writes. */
export type WriteDtype = 'F32' | 'F16' | 'BF16';

const BYTE_SIZE: Record<Dtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export const FLOAT_DTYPES: readonly FloatDtype[] = ['F32', 'F16', 'BF16', 'F64'];

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.hasOwn(BYTE_SIZE, s);
}

export function isFloatDtype(d: Dtype): d is FloatDtype {
  return (FLOAT_DTYPES as readonly string[]).includes(d);
}

export function dtypeByteSize(d: Dtype): number {
  return BYTE_SIZE[d];
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

/** All 65,536 F16 values as floats, built once: decoding a checkpoint is a table lookup per element. */
function f16ToF32Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32(i);
  }
  return f16Table;
}

/**
 * Float32 values of `count` little-endian elements of a float dtype held in `bytes`
 * (bytes.byteLength === count * size). For F32 at an aligned byteOffset the result shares
 * `bytes`' memory; otherwise it is a new array.
 */
export function floatsFromBytes(dtype: FloatDtype, bytes: Uint8Array, count: number): Float32Array {
  const size = BYTE_SIZE[dtype];
  if (bytes.byteLength !== count * size) {
    throw new Error(`floatsFromBytes: ${bytes.byteLength} bytes cannot hold ${count} ${dtype} values`);
  }
  // Typed-array views need an aligned byteOffset; copy only when it is not.
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  switch (dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, count);
    case 'F64':
      return Float32Array.from(new Float64Array(aligned.buffer, aligned.byteOffset, count));
    case 'F16': {
      const table = f16ToF32Table();
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[src[i]!]!;
      return out;
    }
    case 'BF16': {
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i]! << 16;
      return new Float32Array(out.buffer);
    }
  }
}

/** Little-endian bytes of `data` stored as `dtype`. */
export function bytesFromFloats(dtype: WriteDtype, data: Float32Array): Uint8Array {
  switch (dtype) {
    case 'F32':
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    case 'F16':
    case 'BF16': {
      const convert = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
      const out = new Uint16Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = convert(data[i]!);
      return new Uint8Array(out.buffer);
    }
  }
}
