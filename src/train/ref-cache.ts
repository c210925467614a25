// Arrays computed once from a model, without gradients, and kept on disk for later runs:
//   <cache>/<purpose>/<fingerprint>.bin   the values, little-endian (float64 or float32)
//   <cache>/<purpose>/<fingerprint>.json  what the fingerprint covers, the layout, and the pair ids in order
// The fingerprint is a SHA-256 of the purpose, the model's files (content hashes, file-hash.ts), the
// pairs (ids and token ids, so the tokenisation is covered) and the scoring settings (what is computed,
// the kernel set and batch size, so a cached array holds exactly the numbers a fresh run would compute).
// Purposes: "ref-logps" (reference log-probs, [N, 2] float64: chosen, rejected) and "hidden"
// (last-layer mode's hidden states, float32 [R, d]).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, type CachePurpose } from '../util/cache-dir.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface CacheKey {
  /** folderHash of the model that computes the array. */
  model: string;
  /** What is scored: pair ids with their token ids. */
  pairs: { id: string; prompt: ArrayLike<number>; chosen: ArrayLike<number>; rejected: ArrayLike<number> }[];
  /** How, e.g. "summed response log-probs; kernels native; batch 8". */
  scoring: string;
}

export function fingerprint(purpose: CachePurpose, key: CacheKey): string {
  const h = crypto.createHash('sha256');
  h.update(`purpose ${purpose}\nmodel ${key.model}\nscoring ${key.scoring}\n`);
  for (const p of key.pairs)
    h.update(
      `${p.id}\0${Array.from(p.prompt).join(',')}\0${Array.from(p.chosen).join(',')}\0${Array.from(p.rejected).join(',')}\n`,
    );
  return h.digest('hex');
}

export interface Cached<T> {
  data: T;
  /** True when read from the cache. */
  cached: boolean;
  file: string;
}

type FloatArray = Float32Array | Float64Array;
interface FloatArrayType<T extends FloatArray> {
  new (n: number): T;
  new (buffer: ArrayBuffer): T;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * The cached array for (purpose, key), or `compute()`'s, then stored atomically for next time. A
 * stored file of the wrong size (an interrupted copy, another layout) is recomputed and replaced.
 */
export async function cachedArray<T extends FloatArray>(
  purpose: CachePurpose,
  key: CacheKey,
  type: FloatArrayType<T>,
  length: number,
  layout: string,
  compute: () => Promise<T>,
): Promise<Cached<T>> {
  const fp = fingerprint(purpose, key);
  const dir = cacheDir(purpose);
  const bin = path.join(dir, `${fp}.bin`);
  if (fs.existsSync(bin) && fs.statSync(bin).size === length * type.BYTES_PER_ELEMENT) {
    const buf = fs.readFileSync(bin);
    return {
      data: new type(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)),
      cached: true,
      file: bin,
    };
  }
  const data = await compute();
  if (data.length !== length) throw new Error(`${purpose} cache: computed ${data.length} values, expected ${length}`);
  writeFileAtomic(bin, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const meta = {
    fingerprint: fp,
    purpose,
    model_hash: key.model,
    scoring: key.scoring,
    n_pairs: key.pairs.length,
    layout,
    ids: key.pairs.map((p) => p.id),
  };
  writeFileAtomic(path.join(dir, `${fp}.json`), JSON.stringify(meta) + '\n');
  return { data, cached: false, file: bin };
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
    'ref-logps',
    key,
    Float64Array,
    2 * n,
    'float64 little-endian [N, 2]: chosen, rejected',
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
