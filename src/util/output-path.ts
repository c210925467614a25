// Output options (--out, --json). Missing parent folders are created when the output is written
// (util/atomic-write.ts); what can never work is refused before any work starts, naming the option:
// an output that exists as the wrong kind, or a path through a file where a folder is needed.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';

/** Throws unless `file` can be written as a file: not an existing folder, and no file among its parents. */
export function checkOutputFile(option: string, file: string): void {
  if (existing(file)?.isDirectory()) throw new UserError(`${option} ${file}: is a folder; give a file name`);
  checkParentFolders(option, file);
}

/** Throws unless `dir` can be a folder: not an existing file, and no file among its parents. */
export function checkOutputFolder(option: string, dir: string): void {
  const st = existing(dir);
  if (st !== undefined && !st.isDirectory()) throw new UserError(`${option} ${dir}: exists and is not a folder`);
  checkParentFolders(option, dir);
}

/** The nearest existing ancestor of `target` must be a folder (mkdir -p can create the rest). */
function checkParentFolders(option: string, target: string): void {
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    const st = existing(dir);
    if (st !== undefined) {
      if (!st.isDirectory()) throw new UserError(`${option} ${target}: ${dir} is a file, not a folder`);
      return;
    }
    if (path.dirname(dir) === dir) return;
  }
}

/** The stat of `p`, or undefined when nothing is there (ENOTDIR: a parent is a file; the caller's walk names it). */
function existing(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
