// The order in which training pairs are visited. Update k takes positions [k E, (k+1) E) of an
// endless stream made of one permutation of the training split per epoch (E = effective batch), so
// batches are always full and a resumed run needs only k to draw exactly the same pairs.
// Epoch e's permutation comes from Rng.derive(seed, "order/epoch-e"); --no-shuffle uses source order.
import { Rng } from '../util/rng.js';

export interface BatchOrder {
  /** Training-pair indices of update `step` (0-based), length `effectiveBatch`. */
  indicesOf(step: number): number[];
  /** Fractional epoch reached after `steps` updates. */
  epochAt(steps: number): number;
}

export function batchOrder(nTrain: number, effectiveBatch: number, seed: number, shuffle: boolean): BatchOrder {
  let cached: { epoch: number; perm: number[] } | undefined;
  const permutation = (epoch: number): number[] => {
    if (cached?.epoch !== epoch) {
      const perm = shuffle
        ? Rng.derive(seed, `order/epoch-${epoch}`).permutation(nTrain)
        : Array.from({ length: nTrain }, (_, i) => i);
      cached = { epoch, perm };
    }
    return cached.perm;
  };
  return {
    indicesOf(step) {
      const out: number[] = [];
      for (let pos = step * effectiveBatch; pos < (step + 1) * effectiveBatch; pos++) {
        out.push(permutation(Math.floor(pos / nTrain))[pos % nTrain]!);
      }
      return out;
    },
    epochAt: (steps) => (steps * effectiveBatch) / nTrain,
  };
}

/** Updates needed for `epochs` passes over `nTrain` pairs (the last batch may reach into the next epoch). */
export function stepsForEpochs(epochs: number, nTrain: number, effectiveBatch: number): number {
  return Math.max(1, Math.ceil((epochs * nTrain) / effectiveBatch));
}
