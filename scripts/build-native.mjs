#!/usr/bin/env node
// Builds the optional native kernels (build/Release/prefdyn_native.node) with node-gyp, where a C
// compiler, make and OpenBLAS are present. Run by `npm install` / `npm ci` / `npm rebuild` (the
// "install" script) and by `npm run build:native`. It prints one line saying what happened and
// always exits 0: without the addon prefdyn runs on its TypeScript kernels.
// PREFDYN_SKIP_NATIVE=1 skips the build. The full compiler output goes to build/native-build.log, and
// build/native-build.json records {built, openblas, reason} for the loader, `prefdyn doctor` and the tests
// (which require the native kernels in CI wherever OpenBLAS was found).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonPath = path.join('build', 'Release', 'prefdyn_native.node');
const fastPath =
  'install a C compiler and OpenBLAS (Debian/Ubuntu: apt-get install build-essential libopenblas-dev), then run `npm rebuild prefdyn` or `npm run build:native`';

function say(line) {
  process.stdout.write(`prefdyn: ${line}\n`);
}

let openblasFound = false;

/** Writes build/native-build.json (temp file + rename, so readers never see half a file). */
function record(built, reason) {
  const dir = path.join(root, 'build');
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `native-build.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify({ built, openblas: openblasFound, reason }) + '\n');
  renameSync(tmp, path.join(dir, 'native-build.json'));
}

/** Removes any earlier addon too, so the loader never picks up a build this run did not make. */
function notBuilt(reason) {
  rmSync(path.join(root, addonPath), { force: true });
  record(false, reason);
  say(`native kernels not built: ${reason}; the TypeScript kernels will be used (${fastPath})`);
  process.exit(0);
}

/** node-gyp: the one npm runs scripts with, else the one shipped inside npm, else a local install. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.resolve(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  try {
    candidates.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally: the other candidates remain
  }
  return candidates.find((p) => p && existsSync(p));
}

/** Node's headers: npm's configured nodedir, else the include/ folder next to this node binary. */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const besideNode = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(besideNode, 'include', 'node', 'node_api.h')) ? besideNode : undefined;
}

function run(cmd, args, input) {
  return spawnSync(cmd, args, { cwd: root, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** Compiles and links a program calling cblas_sgemm and openblas_get_config: proves header and library. */
function openblasLinks(cc) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prefdyn-blas-'));
  try {
    const program = [
      '#include <cblas.h>',
      'char *openblas_get_config(void);',
      'int main(void) { float a = 1, b = 2, c = 0;',
      '  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1);',
      '  return openblas_get_config() != 0 && c == 2.0f ? 0 : 1; }',
    ].join('\n');
    return run(cc, ['-x', 'c', '-', '-o', path.join(dir, 'blas-check'), '-lopenblas'], program).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Whatever goes wrong, the install goes on (on the TypeScript kernels).
process.on('uncaughtException', (err) => notBuilt(`unexpected error in the build script: ${err.message}`));

if (process.env.PREFDYN_SKIP_NATIVE === '1') notBuilt('PREFDYN_SKIP_NATIVE=1');
if (process.platform === 'win32') notBuilt('the native build supports Linux and macOS only');
const cc = process.env.CC ?? 'cc';
if (run(cc, ['--version']).error) notBuilt(`no C compiler (\`${cc}\` not found)`);
if (run('make', ['--version']).error) notBuilt('`make` not found');
openblasFound = openblasLinks(cc);
if (!openblasFound) notBuilt('OpenBLAS not found (cblas.h and -lopenblas)');
const nodeGyp = findNodeGyp();
if (!nodeGyp) notBuilt('node-gyp not found (it ships with npm)');

const nodeDir = findNodeDir();
const gyp = run(process.execPath, [nodeGyp, 'rebuild', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])]);
const log = `${gyp.stdout ?? ''}${gyp.stderr ?? ''}${gyp.error ? String(gyp.error) : ''}`;
mkdirSync(path.join(root, 'build'), { recursive: true });
writeFileSync(path.join(root, 'build', 'native-build.log'), log);
if (gyp.status !== 0 || !existsSync(path.join(root, addonPath))) {
  const firstError =
    log
      .split('\n')
      .find((l) => /error/i.test(l))
      ?.trim() ?? `node-gyp exited with ${gyp.status}`;
  notBuilt(`node-gyp failed (${firstError.slice(0, 200)}; full log: build/native-build.log)`);
}
record(true, `built ${addonPath}`);
say(`native kernels built: ${addonPath} (OpenBLAS)`);
