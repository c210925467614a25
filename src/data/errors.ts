// Bad data is a mistake the user can fix, so it is a UserError: one line naming the file, the line
// and the field, and what would be right.
import { UserError } from '../util/errors.js';

export interface RowLocation {
  /** The file as the user named it (never resolved to an absolute path). */
  file: string;
  /** 1-based line number in a .jsonl file. */
  line?: number;
  /** 1-based position of the row in a .json array. */
  row?: number;
  /** The field at fault, e.g. "chosen" or "chosen[1].content". */
  field?: string;
}

/** Where a problem is, as `file:line: field "x"` (or `file: row N: ...`): the prefix of every data error and skip report. */
export function locationText(loc: RowLocation): string {
  let text = loc.file;
  if (loc.line !== undefined) text += `:${loc.line}`;
  if (loc.row !== undefined) text += `: row ${loc.row}`;
  if (loc.field !== undefined) text += `: field "${loc.field}"`;
  return text;
}

export class DataError extends UserError {
  constructor(
    readonly location: RowLocation,
    readonly reason: string,
  ) {
    super(`${locationText(location)}: ${reason}`);
    this.name = 'DataError';
  }
}

/** A row that was read but not turned into a pair, and why. */
export interface SkippedRow extends RowLocation {
  id?: string;
  reason: string;
}
