// Index maps for ops that read a tensor through strides (broadcasting, permutations).
import { size } from '../tensor.js';

/** Row-major strides of a shape. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/**
 * For every position of a row-major `out` shape, in order, the source offset sum_d index[d] * strides[d]
 * (a stride of 0 repeats the source along that axis).
 */
export function stridedPositions(out: readonly number[], strides: readonly number[]): Int32Array {
  const n = size(out);
  const map = new Int32Array(n);
  const counter = new Array<number>(out.length).fill(0);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    map[i] = pos;
    for (let d = out.length - 1; d >= 0; d--) {
      counter[d]!++;
      pos += strides[d]!;
      if (counter[d]! < out[d]!) break;
      pos -= strides[d]! * out[d]!;
      counter[d] = 0;
    }
  }
  return map;
}
