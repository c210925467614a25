// Temporary folders for a test file, removed when its process exits (node --test runs each file in
// its own process), so after every `after` hook: a browser or server closed there is done writing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
process.once('exit', () => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })));

/** A new empty folder under the OS temp dir, deleted (with its contents) when the test file's process exits. */
export function tempDir(prefix = 'prefdyn-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
