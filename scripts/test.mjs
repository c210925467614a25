#!/usr/bin/env node
// `npm test` after the build: the whole suite on the default kernels, then the engine suite again on
// the TypeScript kernels (PREFDYN_KERNELS=js). Both passes always run; the exit code is non-zero when
// either failed. Only dist/test/*.test.js files are tests (dist/test/helpers/ holds shared code).
// Extra arguments are passed to both runs of `node --test` (e.g. --test-name-pattern=parity).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testDir = path.join(root, 'dist', 'test');
const all = fs
  .readdirSync(testDir)
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join('dist', 'test', f));
/** The engine's tests: what differs between the kernel sets. */
const engine = ['tensor', 'tensor-ops', 'gradcheck', 'parity', 'lora', 'model-logprobs'].map((n) =>
  path.join('dist', 'test', `${n}.test.js`),
);
const extra = process.argv.slice(2);

function pass(label, files, env) {
  process.stdout.write(`\n# ${label}: ${files.length} files\n`);
  const r = spawnSync(process.execPath, ['--test', ...extra, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return r.status === 0;
}

const results = [
  ['default kernels', pass('default kernels', all, {})],
  ['TypeScript kernels', pass('TypeScript kernels (PREFDYN_KERNELS=js)', engine, { PREFDYN_KERNELS: 'js' })],
];
const failed = results.filter(([, ok]) => !ok).map(([label]) => label);
process.stdout.write(failed.length ? `\n# FAILED: ${failed.join(', ')}\n` : '\n# both passes passed\n');
process.exit(failed.length ? 1 : 0);
