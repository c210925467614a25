// Temporary folders for a test file, removed when its tests are done.
import { after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
let registered = false;

/** A new empty folder under the OS temp dir, deleted (with its contents) after the calling file's tests. */
export function tempDir(prefix = 'prefdyn-test-'): string {
  if (!registered) {
    registered = true;
    after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
