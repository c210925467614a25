// Content hashes of model folders, for cache fingerprints. Hashing every byte of a 7B checkpoint
// takes minutes, so each file's SHA-256 is memoised in <cache>/file-hashes/ under its absolute path
// together with the size, mtime (ms) and inode it had when hashed; a file whose stat differs in any of
// them is hashed again. Correctness stays content-based: the memo only skips re-reading an unchanged file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir } from './cache-dir.js';
import { writeFileAtomic } from './atomic-write.js';

interface FileHashMemo {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** SHA-256 (hex) of a file's bytes, read now (no memo). */
export function sha256OfFile(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** SHA-256 (hex) of a file's bytes, memoised while its (absolute path, size, mtimeMs, inode) stays the same. */
export function fileHash(file: string): string {
  const abs = path.resolve(file);
  const st = fs.statSync(abs);
  const stamp = { path: abs, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
  const memoFile = path.join(cacheDir('file-hashes'), `${crypto.createHash('sha256').update(abs).digest('hex')}.json`);
  try {
    const memo = JSON.parse(fs.readFileSync(memoFile, 'utf8')) as FileHashMemo;
    if (
      memo.path === abs &&
      memo.size === st.size &&
      memo.mtimeMs === st.mtimeMs &&
      memo.ino === st.ino &&
      /^[0-9a-f]{64}$/.test(memo.sha256)
    ) {
      return memo.sha256;
    }
  } catch {
    // no memo yet, or an unreadable one: hash the file
  }
  const sha256 = sha256OfFile(abs);
  writeFileAtomic(memoFile, JSON.stringify({ ...stamp, sha256 } satisfies FileHashMemo) + '\n');
  return sha256;
}

/** SHA-256 over the names and content hashes of every regular file directly in `dir`, in name order. */
export function folderHash(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    h.update(`${name}\0${fileHash(file)}\n`);
  }
  return h.digest('hex');
}
