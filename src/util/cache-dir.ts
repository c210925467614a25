// prefdyn's on-disk cache: <cache> = $PREFDYN_CACHE_DIR, default ./.cache, one folder per purpose:
//   file-hashes/  SHA-256 of model files, memoised by (path, size, mtime, inode)  (file-hash.ts)
//   ref-logps/    reference log-probs of the pairs of a run                        (train/ref-cache.ts)
//   hidden/       last-layer mode's precomputed final hidden states               (train/features.ts)
//   embeddings/   `analyze --model`'s embeddings files                             (analysis/embed-for-analysis.ts)
// The last three are entries of the one disk cache (train/disk-cache.ts): one key rule (kernels, model,
// inputs, settings) and a checksummed manifest per entry, verified on every read.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';

export type CachePurpose = 'file-hashes' | 'ref-logps' | 'hidden' | 'embeddings';

/** <cache>/<purpose>; a <cache> that exists but is not a folder is a UserError. */
export function cacheDir(purpose: CachePurpose): string {
  const root = process.env.PREFDYN_CACHE_DIR ?? '.cache';
  if (fs.existsSync(root) && !fs.statSync(root).isDirectory())
    throw new UserError(
      `${process.env.PREFDYN_CACHE_DIR ? 'PREFDYN_CACHE_DIR=' : ''}${root}: the cache must be a folder, this is a file`,
    );
  return path.join(root, purpose);
}
