// prefdyn's one on-disk cache for values computed from a model without gradients (reference log-probs,
// last-layer hidden states, `analyze --model`'s embeddings). One key rule and one entry layout:
//   fingerprint = SHA-256 of (purpose, kernel set and BLAS core, model content hash, inputs content
//                 hash, settings): the kernels are always in the key because other kernels round
//                 differently, so a cached value holds exactly the numbers a fresh run here would compute.
//   <dir>/<prefix><fingerprint><suffix>  the entry's files, one per suffix (e.g. ".bin")
//   <dir>/<prefix><fingerprint>.json     its manifest: fingerprint, what the key covers, and every file's size and SHA-256
// Files are written atomically and the manifest last. An entry is used only when its manifest names
// this fingerprint and every file has the recorded size and SHA-256 (checked on each read); otherwise it
// is recomputed and replaced, with one line on stderr when a damaged or incomplete entry was found.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { kernelIdentity } from '../tensor/kernels/provenance.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CachePurpose } from '../util/cache-dir.js';
import { sha256OfFile } from '../util/file-hash.js';
import { reportedAgainst } from '../util/errors.js';

/** What a cached value depends on besides the kernels (which the fingerprint adds itself). */
export interface EntryKey {
  purpose: CachePurpose;
  /** Content hash of the model that computes the value (folderHash). */
  model: string;
  /** Content hash of the inputs (token ids of the pairs, or the pairs' text). */
  inputs: string;
  /** How the value is computed: what is scored, batch size, truncation, ... */
  settings: string;
}

export function entryFingerprint(key: EntryKey): string {
  return crypto
    .createHash('sha256')
    .update(
      `purpose ${key.purpose}\nkernels ${kernelIdentity()}\nmodel ${key.model}\ninputs ${key.inputs}\nsettings ${key.settings}\n`,
    )
    .digest('hex');
}

/** SHA-256 of pairs' ids and token ids in order: the inputs of a value scored per pair. */
export function pairTokensDigest(
  pairs: { id: string; prompt: ArrayLike<number>; chosen: ArrayLike<number>; rejected: ArrayLike<number> }[],
): string {
  const h = crypto.createHash('sha256');
  for (const p of pairs)
    h.update(
      `${p.id}\0${Array.from(p.prompt).join(',')}\0${Array.from(p.chosen).join(',')}\0${Array.from(p.rejected).join(',')}\n`,
    );
  return h.digest('hex');
}

interface Manifest {
  fingerprint: string;
  purpose: CachePurpose;
  kernels: string;
  model_hash: string;
  inputs_hash: string;
  settings: string;
  files: { name: string; bytes: number; sha256: string }[];
  [extra: string]: unknown;
}

export interface CacheRequest<T> {
  /** The folder of the entry (e.g. cacheDir(purpose), or `analyze --cache`). */
  dir: string;
  key: EntryKey;
  /** The entry's name in `dir` is this prefix (default none) + the fingerprint. */
  prefix?: string;
  /** One per file of the entry, e.g. [".bin"]. */
  suffixes: string[];
  /** Extra fields of the manifest, describing the entry (layout, pair ids, ...). */
  describe?: Record<string, unknown>;
  /** Reads a verified entry's files (in suffix order). */
  read: (files: string[]) => T;
  /** Computes the value and writes each of `files` (atomically); the manifest is written after it returns. */
  compute: (files: string[]) => Promise<T>;
}

export interface Cached<T> {
  data: T;
  /** True when read from the cache. */
  cached: boolean;
  /** The entry's first file. */
  file: string;
}

/** Why the entry is not usable ('missing' when there is none), or undefined when it is whole. */
function entryProblem(manifestFile: string, files: string[], fingerprint: string): string | undefined {
  if (!fs.existsSync(manifestFile)) return files.some((f) => fs.existsSync(f)) ? 'it has no manifest' : 'missing';
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (err) {
    return `its manifest is unreadable (${(err as Error).message})`;
  }
  if (m?.fingerprint !== fingerprint || !Array.isArray(m.files) || m.files.length !== files.length)
    return 'its manifest does not describe it';
  for (const [i, file] of files.entries()) {
    const want = m.files[i]!;
    if (!fs.existsSync(file)) return `${file} is missing`;
    const bytes = fs.statSync(file).size;
    if (bytes !== want.bytes) return `${file} has ${bytes} bytes, the manifest says ${want.bytes}`;
    if (sha256OfFile(file) !== want.sha256) return `${file} does not match its checksum`;
  }
  return undefined;
}

/** The cached value of `req.key`, verified against its checksums, or `compute()`'s, stored for next time. */
export async function cachedEntry<T>(req: CacheRequest<T>): Promise<Cached<T>> {
  const fingerprint = entryFingerprint(req.key);
  const stem = path.join(req.dir, (req.prefix ?? '') + fingerprint);
  const files = req.suffixes.map((s) => stem + s);
  const manifestFile = `${stem}.json`;
  const problem = entryProblem(manifestFile, files, fingerprint);
  if (problem === undefined) return { data: req.read(files), cached: true, file: files[0]! };
  if (problem !== 'missing')
    process.stderr.write(`prefdyn: cache entry ${manifestFile} is damaged (${problem}); recomputing it\n`);
  return reportingCacheEntry(req.dir, manifestFile, async () => {
    fs.rmSync(manifestFile, { force: true }); // the entry counts again only once its files are rewritten
    const data = await req.compute(files);
    writeManifest(manifestFile, fingerprint, req, files);
    return { data, cached: false, file: files[0]! };
  });
}

/** System calls that fail without naming a path while a file is written. */
const WRITE_CALLS = new Set(['write', 'fsync', 'close']);

/** `step`, with an error writing into `dir` (a read-only or full cache, ...) reported against the entry's file. */
async function reportingCacheEntry<T>(dir: string, manifestFile: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const inCache =
      e.path !== undefined
        ? path.resolve(e.path).startsWith(path.resolve(dir) + path.sep)
        : typeof e.syscall === 'string' && WRITE_CALLS.has(e.syscall);
    throw inCache && e.path === undefined ? reportedAgainst(err, manifestFile) : err;
  }
}

function writeManifest<T>(manifestFile: string, fingerprint: string, req: CacheRequest<T>, files: string[]): void {
  const manifest: Manifest = {
    fingerprint,
    purpose: req.key.purpose,
    kernels: kernelIdentity(),
    model_hash: req.key.model,
    inputs_hash: req.key.inputs,
    settings: req.key.settings,
    ...req.describe,
    files: files.map((f) => ({ name: path.basename(f), bytes: fs.statSync(f).size, sha256: sha256OfFile(f) })),
  };
  writeFileAtomic(manifestFile, JSON.stringify(manifest) + '\n');
}

type FloatArray = Float32Array | Float64Array;
export interface FloatArrayType<T extends FloatArray> {
  new (n: number): T;
  new (buffer: ArrayBuffer): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** A cached array of `length` floats, little-endian in one "<stem>.bin" file. */
export async function cachedArray<T extends FloatArray>(
  dir: string,
  key: EntryKey,
  type: FloatArrayType<T>,
  length: number,
  describe: Record<string, unknown>,
  compute: () => Promise<T>,
): Promise<Cached<T>> {
  return cachedEntry({
    dir,
    key,
    suffixes: ['.bin'],
    describe,
    read: ([bin]) => {
      const buf = fs.readFileSync(bin!);
      return new type(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    },
    compute: async ([bin]) => {
      const data = await compute();
      if (data.length !== length)
        throw new Error(`${key.purpose} cache: computed ${data.length} values, expected ${length}`);
      writeFileAtomic(bin!, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return data;
    },
  });
}
