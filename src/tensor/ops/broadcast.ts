// NumPy broadcasting of two operands: shapes aligned on the right, each dimension equal or 1.
// An operand whose shape differs from the output's gets an index map: element i of the output reads
// element map[i] of that operand (null = the identity), which the backward pass uses to sum the
// gradient over the broadcast dimensions.
import type { Tensor } from '../tensor.js';
import { size } from '../tensor.js';
import { rowMajorStrides, stridedPositions } from './strided.js';

export interface Broadcast {
  shape: number[];
  n: number;
  ia: Int32Array | null;
  ib: Int32Array | null;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// Maps are read-only, so one per (operand shape, output shape) is shared by every call (a bias added
// in every layer builds its map once). Bounded: cleared when it grows past MAX_CACHED.
const MAX_CACHED = 64;
const cachedMaps = new Map<string, Int32Array>();

/** Index map from output positions to positions of an operand of `shape`, broadcast to `out`. */
function indexMap(shape: readonly number[], out: readonly number[]): Int32Array {
  const key = `${shape.join(',')}|${out.join(',')}`;
  const cached = cachedMaps.get(key);
  if (cached) return cached;
  const offset = out.length - shape.length;
  const own = rowMajorStrides(shape);
  // 0 along broadcast axes (size 1, or missing on the left)
  const strides = out.map((_, d) => (d < offset || shape[d - offset] === 1 ? 0 : own[d - offset]!));
  const map = stridedPositions(out, strides);
  if (cachedMaps.size >= MAX_CACHED) cachedMaps.clear();
  cachedMaps.set(key, map);
  return map;
}

export function broadcastShapes(a: Tensor, b: Tensor, op: string): Broadcast {
  if (sameShape(a.shape, b.shape)) return { shape: [...a.shape], n: a.size, ia: null, ib: null };
  const rank = Math.max(a.rank, b.rank);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const da = a.shape[a.rank - rank + d] ?? 1;
    const db = b.shape[b.rank - rank + d] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: cannot broadcast ${a.describe()} with ${b.describe()} (axis ${d} from the right-aligned start: ${da} vs ${db}; sizes must match or be 1)`,
      );
    }
    shape.push(da === 1 ? db : da);
  }
  return {
    shape,
    n: size(shape),
    ia: sameShape(a.shape, shape) ? null : indexMap(a.shape, shape),
    ib: sameShape(b.shape, shape) ? null : indexMap(b.shape, shape),
  };
}
