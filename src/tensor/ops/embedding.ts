// Row lookups: token embeddings and row gathers. Gradients are sparse: only the rows read are
// touched, accumulated straight into the source's gradient buffer.
import { Tensor, size, uninitialisedFloats } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { decodeHalf } from '../half.js';

function checkIndices(idx: Int32Array, rows: number, op: string, what: string): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (!(v >= 0 && v < rows)) throw new Error(`${op}: ${what}[${i}] = ${v} is outside [0, ${rows})`);
  }
}

/** Copies rows idx of src [*, C] into out [idx.length, C] (a 16-bit src decoded row by row); the backward adds them back. */
function gatherRowsOf(src: Tensor, C: number, idx: Int32Array, outShape: number[]): Tensor {
  const out = uninitialisedFloats(idx.length * C); // every row copied below
  const h = src.half;
  if (h) {
    for (let i = 0; i < idx.length; i++)
      decodeHalf(h.dtype, h.bits.subarray(idx[i]! * C, idx[i]! * C + C), out.subarray(i * C, i * C + C));
  } else {
    const S = src.data;
    for (let i = 0; i < idx.length; i++) out.set(S.subarray(idx[i]! * C, idx[i]! * C + C), i * C);
  }
  return record(new Tensor(out, outShape), [src], (g) => {
    const gs = gradOf(src)!;
    for (let i = 0; i < idx.length; i++) {
      const o = idx[i]! * C;
      for (let c = 0; c < C; c++) gs[o + c]! += g[i * C + c]!;
    }
  });
}

/** embedding(weight [V, D], ids [prod(shape)], shape) -> [...shape, D]. */
export function embedding(weight: Tensor, ids: Int32Array, shape: number[]): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight ${weight.describe()} must be [vocab, dim]`);
  if (ids.length !== size(shape))
    throw new Error(`embedding: ${ids.length} ids do not fill shape [${shape.join(', ')}]`);
  const [V, D] = weight.shape as [number, number];
  checkIndices(ids, V, 'embedding', 'ids');
  return gatherRowsOf(weight, D, ids, [...shape, D]);
}

/** gatherRows(x [N, ...rest], idx [M]) -> [M, ...rest]: rows of x (e.g. the last prompt token per sequence). */
export function gatherRows(x: Tensor, idx: Int32Array): Tensor {
  if (x.rank < 1) throw new Error(`gatherRows: ${x.describe()} needs at least one axis`);
  const N = x.shape[0]!;
  checkIndices(idx, N, 'gatherRows', 'idx');
  return gatherRowsOf(x, N === 0 ? 0 : x.size / N, idx, [idx.length, ...x.shape.slice(1)]);
}
