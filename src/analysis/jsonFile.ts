// JSON files written whole or not at all (temp file + rename), read with errors that name the file.
import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export function writeJsonAtomic(file: string, value: unknown): void {
  try {
    writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n');
  } catch (err) {
    throw new UserError(`${file}: cannot write: ${(err as Error).message}`);
  }
}

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}
