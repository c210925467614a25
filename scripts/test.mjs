#!/usr/bin/env node
// `npm test` after the build: the whole suite on the default kernels, then the engine suite again on
// the TypeScript kernels (PREFDYN_KERNELS=js). Both passes always run; the exit code is non-zero when
// either failed. Only dist/test/*.test.js files are tests (dist/test/helpers/ holds shared code).
// The tests run with TMPDIR set to a fresh folder: whatever they leave there is listed and fails the run
// (tests remove their temporary folders: test/helpers/temp.ts), then removed.
// Extra arguments are passed to both runs of `node --test` (e.g. --test-name-pattern=parity).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allTests, engineTests, root } from './test-files.mjs';

const extra = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prefdyn-npm-test-'));

function pass(label, files, env) {
  process.stdout.write(`\n# ${label}: ${files.length} files\n`);
  const r = spawnSync(process.execPath, ['--test', ...extra, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: tmp, ...env },
  });
  return r.status === 0;
}

const results = [
  ['default kernels', pass('default kernels', allTests(), {})],
  ['TypeScript kernels', pass('TypeScript kernels (PREFDYN_KERNELS=js)', engineTests, { PREFDYN_KERNELS: 'js' })],
];
const leftovers = fs.readdirSync(tmp);
fs.rmSync(tmp, { recursive: true, force: true });
if (leftovers.length > 0) {
  process.stdout.write(`\n# tests left ${leftovers.length} temporary entries: ${leftovers.slice(0, 10).join(', ')}\n`);
  results.push(['temporary folders', false]);
}
const failed = results.filter(([, ok]) => !ok).map(([label]) => label);
process.stdout.write(failed.length ? `\n# FAILED: ${failed.join(', ')}\n` : '\n# both passes passed\n');
process.exit(failed.length ? 1 : 0);
