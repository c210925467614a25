// One writer per output folder. A command that writes a folder (a run, a model) first creates the lock
// file `.<name>.lock` beside it, holding the writer's PID, host and start time; a second process that
// finds the lock held stops with one line naming the folder and the holder. The lock sits beside the
// folder, not in it, because model folders are replaced whole (atomic-write.ts) and a run folder may
// not exist yet. A lock whose process is gone (killed, crashed) is stale: it is reported and taken over.
// The lock file appears complete or not at all: it is written to a temporary and hard-linked into place,
// which fails when the name exists, so two processes can never both take it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reportedAgainst, UserError } from './errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
}

export interface FolderLock {
  readonly file: string;
  /** Removes the lock file if it is still this process's (also done on exit). */
  release(): void;
}

/** The lock file of `dir`. */
export const lockFile = (dir: string): string => {
  const abs = path.resolve(dir);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.lock`);
};

/** True while process `pid` exists on this machine (EPERM: it exists, owned by another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return Number.isSafeInteger(h.pid) && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `file` holding `text` unless it exists (returns false then). */
function createExclusive(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Takes the lock of output folder `dir` (its parent folders are created) or throws a UserError naming
 * the holder; `notice` gets a one-line message when a stale lock is taken over.
 */
export function lockFolder(dir: string, notice: (text: string) => void): FolderLock {
  const file = lockFile(dir);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
  const text = JSON.stringify(me) + '\n';
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    while (!createExclusive(file, text)) {
      const holder = readHolder(file);
      if (holder && (holder.host !== me.host || alive(holder.pid))) {
        throw new UserError(
          `${dir}: in use by process ${holder.pid} on ${holder.host} (since ${holder.started}); wait for it to end, ` +
            `or remove ${file} if that process is not prefdyn`,
        );
      }
      // Stale (its process is gone) or unreadable: set it aside under a name of our own, so that of two
      // processes taking it over only one succeeds, then try again.
      const aside = `${file}.${process.pid}.stale`;
      try {
        fs.renameSync(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process took it over first
        throw err;
      }
      const moved = readHolder(aside);
      if (moved?.pid !== holder?.pid || moved?.started !== holder?.started) {
        // A process took it over between our read and the rename: that lock is live, put it back.
        try {
          fs.linkSync(aside, file);
        } finally {
          fs.rmSync(aside, { force: true });
        }
        continue;
      }
      fs.rmSync(aside, { force: true });
      notice(
        holder
          ? `${dir}: taking over the stale lock of process ${holder.pid} (started ${holder.started}; no longer running)`
          : `${dir}: taking over an unreadable lock file ${file}`,
      );
    }
  } catch (err) {
    // A filesystem fault here (a read-only or full disk) is the output folder's: report it against `dir`.
    throw reportedAgainst(err, dir);
  }
  const release = () => {
    process.off('exit', release);
    if (readHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, release };
}

/** Runs `work` holding the lock of output folder `dir` (lockFolder), released however `work` ends. */
export async function withFolderLock<T>(
  dir: string,
  notice: (text: string) => void,
  work: () => Promise<T>,
): Promise<T> {
  const lock = lockFolder(dir, notice);
  try {
    return await work();
  } finally {
    lock.release();
  }
}
