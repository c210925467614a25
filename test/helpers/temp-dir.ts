// Temporary folders for a test file, removed when its tests are done (the hook is registered when
// this module is first imported, at the top level of the test file, so a folder made inside a
// `before` hook lives until the file's last test).
import { after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A new empty folder under the OS temp dir, deleted (with its contents) after the importing file's tests. */
export function tempDir(prefix = 'prefdyn-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
