// Reference log-probs are computed once, without gradients, and kept on disk:
//   <cache>/ref-logps/<fingerprint>.bin   float64 [N, 2] (chosen, rejected) per pair
//   <cache>/ref-logps/<fingerprint>.json  what the fingerprint covers, and the pair ids in order
// The fingerprint is a SHA-256 of the reference model's files (their bytes), the pairs (ids and
// token ids, so the tokenisation is covered) and the scoring settings. <cache> is $PREFDYN_CACHE_DIR,
// default ./.cache.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function cacheRoot(): string {
  return path.join(process.env.PREFDYN_CACHE_DIR ?? '.cache', 'ref-logps');
}

/** SHA-256 of every regular file directly in `dir` (name and bytes, in name order). */
export function folderHash(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    h.update(name + '\0');
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 22);
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  }
  return h.digest('hex');
}

export interface RefLogpsKey {
  /** folderHash of the reference model (and of an adapter applied to it, if any). */
  model: string;
  /** What is scored: pair ids with their token ids, and how (e.g. "last-layer" vs "sequence"). */
  pairs: { id: string; prompt: ArrayLike<number>; chosen: ArrayLike<number>; rejected: ArrayLike<number> }[];
  scoring: string;
}

export function fingerprint(key: RefLogpsKey): string {
  const h = crypto.createHash('sha256');
  h.update(`model ${key.model}\nscoring ${key.scoring}\n`);
  for (const p of key.pairs) h.update(`${p.id}\0${Array.from(p.prompt).join(',')}\0${Array.from(p.chosen).join(',')}\0${Array.from(p.rejected).join(',')}\n`);
  return h.digest('hex');
}

export interface RefLogps {
  chosen: Float64Array;
  rejected: Float64Array;
  /** True when read from the cache. */
  cached: boolean;
  file: string;
}

/** The cached reference log-probs for `key`, or `compute()`'s, then stored (atomically) for next time. */
export async function cachedRefLogps(key: RefLogpsKey,
  compute: () => Promise<{ chosen: Float64Array; rejected: Float64Array }>): Promise<RefLogps> {
  const fp = fingerprint(key);
  const dir = cacheRoot();
  const bin = path.join(dir, `${fp}.bin`);
  const n = key.pairs.length;
  if (fs.existsSync(bin) && fs.statSync(bin).size === n * 16) {
    const buf = fs.readFileSync(bin);
    const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const chosen = new Float64Array(n);
    const rejected = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      chosen[i] = all[2 * i]!;
      rejected[i] = all[2 * i + 1]!;
    }
    return { chosen, rejected, cached: true, file: bin };
  }
  const { chosen, rejected } = await compute();
  const all = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    all[2 * i] = chosen[i]!;
    all[2 * i + 1] = rejected[i]!;
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.from(all.buffer));
  fs.renameSync(tmp, bin);
  const meta = { fingerprint: fp, model_hash: key.model, scoring: key.scoring, n_pairs: n, layout: 'float64 little-endian [N, 2]: chosen, rejected', ids: key.pairs.map((p) => p.id) };
  fs.writeFileSync(`${path.join(dir, fp)}.json`, JSON.stringify(meta) + '\n');
  return { chosen, rejected, cached: false, file: bin };
}
