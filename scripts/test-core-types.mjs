#!/usr/bin/env node
// The test suite under every BLAS kernel choice this CPU supports, to show that no test depends on how one
// OpenBLAS core type rounds its sums (tests compare different computation paths within float32 bounds).
//   node scripts/test-core-types.mjs            whole suite (scripts/test.mjs) per setting, ~2 min each
//   node scripts/test-core-types.mjs --engine   only the engine and parity tests per setting (CI runs this)
// Settings: OPENBLAS_CORETYPE as the environment has it, unset, Haswell, Zen, SkylakeX (only where the CPU has
// AVX-512: forcing it elsewhere stops OpenBLAS with an illegal instruction), and PREFDYN_KERNELS=js.
// Run after `npm run build`. Exit code 1 when any setting failed; a table of the results at the end.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { engineTests, root } from './test-files.mjs';

const engineOnly = process.argv.includes('--engine');
const flags = fs.existsSync('/proc/cpuinfo')
  ? new Set((/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/))
  : new Set();

const settings = [
  { label: `environment (OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? 'unset'})`, env: {} },
  { label: 'OPENBLAS_CORETYPE unset', env: { OPENBLAS_CORETYPE: undefined } },
  ...['Haswell', 'Zen', 'SkylakeX']
    .filter((core) => (core === 'SkylakeX' ? flags.has('avx512f') : flags.has('avx2')))
    .map((core) => ({ label: `OPENBLAS_CORETYPE=${core}`, env: { OPENBLAS_CORETYPE: core } })),
  { label: 'PREFDYN_KERNELS=js', env: { PREFDYN_KERNELS: 'js' } },
];
const results = [];
for (const s of settings) {
  const env = { ...process.env, ...s.env };
  for (const [k, v] of Object.entries(s.env)) if (v === undefined) delete env[k];
  process.stdout.write(`\n## ${s.label}\n`);
  const args = engineOnly ? ['--test', ...engineTests] : [path.join('scripts', 'test.mjs')];
  const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  results.push([s.label, r.status === 0]);
}
process.stdout.write(
  `\n${engineOnly ? 'engine tests' : 'whole suite'} per kernel setting:\n` +
    results.map(([label, ok]) => `  ${ok ? 'pass' : 'FAIL'}  ${label}`).join('\n') +
    '\n',
);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
