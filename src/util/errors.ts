// Errors that are part of prefdyn's interface. Library code throws them for input a user can fix;
// the command line prints their message as one line, `prefdyn: <message>`, and exits with their code.
import fs from 'node:fs';
import path from 'node:path';

/** A mistake the user can fix (bad file, bad option value): exit code `exitCode` (default 1). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Wrong command-line usage (unknown option, missing argument): exit code 2, as getopt tools do. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

// What a filesystem error means, in the words of strerror (folders for directories). Any error with
// one of these codes is the environment's or the user's (a full disk, a read-only or wrong path), not
// a bug: the command line prints `prefdyn: <path>: <cause> (<CODE>)` and exits 1.
const FILESYSTEM_CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ENOTDIR: 'not a folder',
  EISDIR: 'is a folder',
  ENOENT: 'no such file or folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'busy or locked',
  ETXTBSY: 'busy (text file in use)',
  EXDEV: 'not on the same file system',
  EIO: 'input/output error',
};

type FilesystemError = NodeJS.ErrnoException & { code: string; dest?: string };

/** A Node filesystem error (fs.* calls set `code` and `syscall`; `path` where the call had one). */
function filesystemError(err: unknown): FilesystemError | undefined {
  const e = err as NodeJS.ErrnoException | null;
  if (!(e instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  return FILESYSTEM_CAUSES[e.code] === undefined ? undefined : (e as FilesystemError);
}

/** One line for a filesystem error: "<path>: no space left on device (ENOSPC)"; undefined for any other error. */
export function filesystemErrorText(err: unknown): string | undefined {
  const e = filesystemError(err);
  if (!e) return undefined;
  const where = e.path === undefined ? `${e.syscall}` : e.dest === undefined ? e.path : `${e.path} -> ${e.dest}`;
  const file = e.code === 'ENOTDIR' && e.path !== undefined ? fileAmongParents(e.path) : undefined;
  const code = (e.code === 'ENOENT' && e.syscall === 'mkdir' && e.path && unwritableParent(e.path)) || e.code;
  const cause =
    file === undefined
      ? FILESYSTEM_CAUSES[code]
      : file === e.path
        ? 'a file, not a folder'
        : `${file} is a file, not a folder`;
  return `${where}: ${cause} (${code})`;
}

/**
 * Why folders could not be made under the nearest existing parent of `p` (EROFS, EACCES), if that is why:
 * a recursive mkdir reports ENOENT for a read-only parent.
 */
function unwritableParent(p: string): string | undefined {
  for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
    if (fs.existsSync(dir)) {
      try {
        fs.accessSync(dir, fs.constants.W_OK);
        return undefined;
      } catch (err) {
        return filesystemError(err)?.code;
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The first existing path among `p` and its parents, when it is not a folder (what ENOTDIR means). */
function fileAmongParents(p: string): string | undefined {
  for (let dir = p; ; dir = path.dirname(dir)) {
    try {
      return fs.statSync(dir).isDirectory() ? undefined : dir;
    } catch {
      if (path.dirname(dir) === dir) return undefined;
    }
  }
}

/**
 * Runs `fn` and reports a filesystem error from it against `file`, the path the user named: for writes
 * through a descriptor (whose errors carry no path) and for temporaries the user never named.
 */
export function reportingPath<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw reportedAgainst(err, file);
  }
}

/** `err`, when it is a filesystem error, set to report `file` as its path (see reportingPath). */
export function reportedAgainst(err: unknown, file: string): unknown {
  const e = filesystemError(err);
  if (e) {
    e.path = file;
    delete e.dest;
  }
  return err;
}
