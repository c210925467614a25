// Output options (--out, --json). Missing parent folders are created when the output is written
// (util/atomic-write.ts); what can never work is refused before any work starts, naming the option:
// an output that exists as the wrong kind, or a path through a file where a folder is needed.
// An output folder is also refused, so that nothing prefdyn did not write is lost, when it
//   - is, contains or lies inside one of the command's inputs (real paths: links resolved), or
//   - is not empty and holds an entry prefdyn does not write in such a folder (`writes`), unless --overwrite.
// "A folder prefdyn wrote" is thus one holding only the entries its command writes (a model folder:
// config.json, safetensors, tokenizer files; a run folder: config.json, metrics.jsonl, summary.json,
// checkpoints/): no marker file, so folders written by earlier versions, or by Hugging Face, count too.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';

/** Throws unless `file` can be written as a file: not an existing folder, and no file among its parents. */
export function checkOutputFile(option: string, file: string): void {
  if (existing(file)?.isDirectory()) throw new UserError(`${option} ${file}: is a folder; give a file name`);
  checkParentFolders(option, file);
}

export interface OutputFolderRules {
  /** The entries the command writes in the folder; any other entry makes the folder not prefdyn's. */
  writes?: (name: string) => boolean;
  /** True when the command replaces the whole folder (other entries are deleted), false when it adds to it. */
  replaces?: boolean;
  /** --overwrite given: a folder with other entries may be used too. */
  overwrite?: boolean;
  /** What the command reads, by option: the output may not be, contain or lie inside any of them. */
  inputs?: { option: string; path: string | undefined }[];
}

/**
 * Throws unless `dir` can be a folder: not an existing file, no file among its parents, not one of
 * `rules.inputs` (nor containing or inside one), and, unless `rules.overwrite`, holding no entry
 * that `rules.writes` does not name.
 */
export function checkOutputFolder(option: string, dir: string, rules: OutputFolderRules = {}): void {
  const st = existing(dir);
  if (st !== undefined && !st.isDirectory()) throw new UserError(`${option} ${dir}: exists and is not a folder`);
  checkParentFolders(option, dir);
  const out = realPath(dir);
  for (const input of rules.inputs ?? []) {
    if (input.path === undefined || existing(input.path) === undefined) continue;
    const inp = realPath(input.path);
    const relation =
      out === inp
        ? 'is'
        : inp.startsWith(out + path.sep)
          ? 'contains'
          : out.startsWith(inp + path.sep)
            ? 'is inside'
            : '';
    if (relation !== '')
      throw new UserError(
        `${option} ${dir}: ${relation} the input ${input.option} ${input.path}; write the output elsewhere`,
      );
  }
  if (st === undefined || rules.writes === undefined || rules.overwrite) return;
  const foreign = fs.readdirSync(dir).filter((name) => !rules.writes!(name));
  if (foreign.length === 0) return;
  const shown = foreign.length > 3 ? `${foreign.slice(0, 3).join(', ')}, ...` : foreign.join(', ');
  throw new UserError(
    `${option} ${dir}: holds ${foreign.length === 1 ? 'an entry' : `${foreign.length} entries`} prefdyn did not write (${shown}); ` +
      `choose another ${option}, or give --overwrite to ${rules.replaces ? `replace the folder, deleting ${foreign.length === 1 ? 'it' : 'them'}` : 'write into it anyway'}`,
  );
}

/** The real path of `p`, also when it does not exist yet: its nearest existing ancestor resolved, the rest appended. */
function realPath(p: string): string {
  const abs = path.resolve(p);
  if (existing(abs) !== undefined) return fs.realpathSync(abs);
  const parent = path.dirname(abs);
  return parent === abs ? abs : path.join(realPath(parent), path.basename(abs));
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
