// JSON files read with one-line errors that name the file (written by atomic-write.ts writeJsonAtomic).
import fs from 'node:fs';
import { filesystemErrorText, reportedAgainst, UserError } from './errors.js';

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `${file}: no such file`
        : (filesystemErrorText(reportedAgainst(err, file)) ?? `${file}: cannot read: ${(err as Error).message}`),
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}
