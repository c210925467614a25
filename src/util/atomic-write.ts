// Files and folders written whole or not at all. The content goes to a temporary sibling (hidden, named
// with the pid so two processes never share one) that is renamed into place; a rename within a folder
// is atomic, so readers see the previous version or the new one, never half of one. Missing parent
// folders are created; on failure the temporary and the folders created for it are removed and the
// error rethrown, naming the target (never the temporary): `<target>: no space left on device (ENOSPC)`.
import fs from 'node:fs';
import path from 'node:path';
import { reportingPath, UserError } from './errors.js';

/** `.<name>.<pid>.tmp` beside `target`. */
function tempSibling(target: string): string {
  const abs = path.resolve(target);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
}

/** Creates `dir` and its missing parents; returns an undo that removes the created ones again while they are empty. */
function makeFolders(dir: string): () => void {
  const first = fs.mkdirSync(dir, { recursive: true });
  return () => {
    if (first === undefined) return;
    for (let d = dir; ; d = path.dirname(d)) {
      try {
        fs.rmdirSync(d);
      } catch {
        return; // not empty any more: someone else writes there too
      }
      if (d === first) return;
    }
  };
}

/** A file being written: write to `fd`, then `commit()`, or `abort()` on failure (abort is safe at any time, also twice or after commit). */
export interface AtomicFile {
  /** Appends all of `bytes`. */
  write(bytes: Uint8Array): void;
  /** Flushes the temporary to disk, closes it and renames it over the target. Aborts if any step fails. */
  commit(): void;
  /** Closes and removes the temporary and the folders made for it; the target stays as it was. */
  abort(): void;
}

/** Opens a temporary sibling of `file` for writing (for streaming writers; see writeFileAtomic). */
export function openAtomic(file: string): AtomicFile {
  return reportingPath(file, () => openAtomicAt(file));
}

function openAtomicAt(file: string): AtomicFile {
  const tmp = tempSibling(file);
  const unmakeFolders = makeFolders(path.dirname(tmp));
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (err) {
    unmakeFolders();
    throw err;
  }
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    fs.closeSync(fd);
  };
  const abort = () => {
    try {
      close();
    } finally {
      fs.rmSync(tmp, { force: true });
      unmakeFolders();
    }
  };
  return {
    write: (bytes) => reportingPath(file, () => writeAll(fd, bytes)),
    commit: abortingOnError(
      () =>
        reportingPath(file, () => {
          fs.fsyncSync(fd);
          close();
          fs.renameSync(tmp, file);
        }),
      abort,
    ),
    abort,
  };
}

/** Writes all of `bytes` at the descriptor's position (fs.writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength;) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
}

/** Writes `data` (text as UTF-8, or bytes, or byte parts in order) to `file`: complete or not at all. */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const out = openAtomic(file);
  abortingOnError(() => {
    for (const part of parts) out.write(part);
    out.commit();
  }, out.abort)();
}

/** A folder being filled: fill `path`, then `commit()`, or `abort()` on failure (abort is safe at any time, also twice or after commit). */
export interface AtomicFolder {
  readonly path: string;
  /** Puts the filled folder in place of the target; a previous folder there is removed only once the new one is in place. */
  commit(): void;
  /** Removes the temporary folder and the folders made for it; the target stays as it was. */
  abort(): void;
}

/** A JSON file (2-space indent, final newline) written whole or not at all. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** An empty temporary sibling folder of `dir`. Refuses when `dir` exists and is not a folder. */
export function openAtomicFolder(dir: string): AtomicFolder {
  return reportingPath(dir, () => openAtomicFolderAt(dir));
}

function openAtomicFolderAt(dir: string): AtomicFolder {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
  const tmp = tempSibling(dir);
  const unmakeFolders = makeFolders(path.dirname(tmp));
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  const abort = () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    unmakeFolders();
  };
  return {
    path: tmp,
    commit: abortingOnError(() => reportingPath(dir, () => replaceFolder(tmp, dir)), abort),
    abort,
  };
}

/** Moves the finished folder `tmp` to `dir`; a previous `dir` is set aside first and put back if the move fails. */
function replaceFolder(tmp: string, dir: string): void {
  if (!fs.existsSync(dir)) {
    fs.renameSync(tmp, dir);
    return;
  }
  const old = `${tmp}.old`;
  fs.rmSync(old, { recursive: true, force: true }); // left by a crashed writer with the same pid
  fs.renameSync(dir, old);
  try {
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.renameSync(old, dir);
    throw err;
  }
  fs.rmSync(old, { recursive: true, force: true });
}

/** Builds folder `dir` with `fill(tmpDir)` in a temporary sibling and swaps it into place: complete or not at all. */
export function writeFolderAtomic(dir: string, fill: (tmpDir: string) => void): void {
  const out = openAtomicFolder(dir);
  abortingOnError(() => {
    reportingPath(dir, () => fill(out.path)); // a fault in the temporary is the target's
    out.commit();
  }, out.abort)();
}

/** `step` made to call `abort` before rethrowing when it fails. */
function abortingOnError(step: () => void, abort: () => void): () => void {
  return () => {
    try {
      step();
    } catch (err) {
      abort();
      throw err;
    }
  };
}
