// Element types of safetensors files (the format's own names) and their conversion to and from
// Float32. The engine computes in F32; F16 and BF16 are storage formats only. Byte order is
// little-endian, as the format requires (and as every host Node.js runs on here is). The 16-bit
// conversions live in tensor/half.ts (kernels decode 16-bit weights too) and are re-exported here.
import { f32ToHalf, halfToF32 } from '../tensor/half.js';

export { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../tensor/half.js';

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
/** The values of every `--dtype` option (the safetensors names, upper-case). */
export const WRITE_DTYPES: readonly WriteDtype[] = ['F32', 'F16', 'BF16'];

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.hasOwn(BYTE_SIZE, s);
}

export function isFloatDtype(d: Dtype): d is FloatDtype {
  return (FLOAT_DTYPES as readonly string[]).includes(d);
}

export function dtypeByteSize(d: Dtype): number {
  return BYTE_SIZE[d];
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
    case 'F16':
    case 'BF16':
      return halfToF32({ dtype, bits: new Uint16Array(aligned.buffer, aligned.byteOffset, count) });
  }
}

/** Little-endian bytes of `data` stored as `dtype`. */
export function bytesFromFloats(dtype: WriteDtype, data: Float32Array): Uint8Array {
  switch (dtype) {
    case 'F32':
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    case 'F16':
    case 'BF16':
      return new Uint8Array(f32ToHalf(dtype, data).bits.buffer);
  }
}
