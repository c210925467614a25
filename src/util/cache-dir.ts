// prefdyn's on-disk cache: <cache> = $PREFDYN_CACHE_DIR, default ./.cache, one folder per purpose:
//   file-hashes/  SHA-256 of model files, memoised by (path, size, mtime, inode)  (file-hash.ts)
//   ref-logps/    reference log-probs of the pairs of a run                        (train/ref-cache.ts)
//   hidden/       last-layer mode's precomputed final hidden states               (train/features.ts)
//   embeddings/   `analyze --model`'s embeddings files                             (analysis/embed-for-analysis.ts)
// The last three are entries of the one disk cache (train/disk-cache.ts): one key rule (kernels, model,
// inputs, settings) and a checksummed manifest per entry, verified on every read.
import path from 'node:path';

export type CachePurpose = 'file-hashes' | 'ref-logps' | 'hidden' | 'embeddings';

export function cacheDir(purpose: CachePurpose): string {
  return path.join(process.env.PREFDYN_CACHE_DIR ?? '.cache', purpose);
}
