// Reference log-probs of a run's pairs, computed once without gradients and kept in the disk cache
// (disk-cache.ts, purpose "ref-logps"): float64 [N, 2] (chosen, rejected), keyed by the reference
// model's content hash, the pairs' ids and token ids (so the tokenisation is covered) and the scoring
// settings, plus the kernels, as every cache entry.
import { cacheDir } from '../util/cache-dir.js';
import { cachedArray, pairTokensDigest } from './disk-cache.js';

export interface CacheKey {
  /** folderHash of the model that computes the array. */
  model: string;
  /** What is scored: pair ids with their token ids. */
  pairs: { id: string; prompt: ArrayLike<number>; chosen: ArrayLike<number>; rejected: ArrayLike<number> }[];
  /** How, e.g. "summed response log-probs; batch 8". */
  scoring: string;
}

export interface RefLogps {
  chosen: Float64Array;
  rejected: Float64Array;
  cached: boolean;
  file: string;
}

/** Reference log-probs of every pair of `key`, cached; `compute` gives them in pair order. */
export async function cachedRefLogps(
  key: CacheKey,
  compute: () => Promise<{ chosen: Float64Array; rejected: Float64Array }>,
): Promise<RefLogps> {
  const n = key.pairs.length;
  const r = await cachedArray(
    cacheDir('ref-logps'),
    { purpose: 'ref-logps', model: key.model, inputs: pairTokensDigest(key.pairs), settings: key.scoring },
    Float64Array,
    2 * n,
    {
      layout: 'float64 little-endian [N, 2]: chosen, rejected',
      n_pairs: n,
      ids: key.pairs.map((p) => p.id),
    },
    async () => {
      const { chosen, rejected } = await compute();
      const all = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        all[2 * i] = chosen[i]!;
        all[2 * i + 1] = rejected[i]!;
      }
      return all;
    },
  );
  const chosen = new Float64Array(n);
  const rejected = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    chosen[i] = r.data[2 * i]!;
    rejected[i] = r.data[2 * i + 1]!;
  }
  return { chosen, rejected, cached: r.cached, file: r.file };
}
