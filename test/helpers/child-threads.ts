// A module script run in a child node with PREFDYN_THREADS set: BLAS threads are set once, when the native
// kernels load, so comparing thread counts needs a process per count.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';

/** The words the child printed; it must exit 0. */
export function runWithThreads(script: string, threads: string, env: Record<string, string> = {}): string[] {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, PREFDYN_THREADS: threads, ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split(' ');
}
