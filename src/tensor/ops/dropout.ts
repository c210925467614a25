// Inverted dropout: each element is kept with probability 1 - p and scaled by 1/(1 - p), so the
// expectation is unchanged and evaluation needs no rescaling. The mask is drawn from the caller's Rng.
import { Tensor } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import type { Rng } from '../../util/rng.js';

/** dropout(x, p, rng, training): identity when p = 0 or not training. */
export function dropout(x: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0 || !training) return x;
  const keep = Math.fround(1 / (1 - p)); // as the mask stores it
  // element i is dropped when rng.uniform() < p, i.e. its 32-bit draw u has u / 2^32 < p (both sides exact)
  const draws = new Uint32Array(x.size);
  rng.fillUint32(draws);
  const below = p * 4294967296;
  const mask = new Float32Array(draws.buffer); // 0 or 1/(1-p) per element, written over the draws
  const X = x.data;
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) {
    const m = draws[i]! < below ? 0 : keep;
    mask[i] = m;
    out[i] = X[i]! * m;
  }
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let i = 0; i < g.length; i++) gx[i]! += g[i]! * mask[i]!;
  });
}
