// Filesystem faults are the environment's, not bugs: every command reports them in one line naming the
// path and the cause, `prefdyn: <path>: <cause> (<CODE>)`, and exits 1; never a stack trace, never 70.
// Read-only and full disks are real mounts in a private namespace (runCliWithMounts); where the
// machine allows none, those cases are skipped and the path-through-a-file cases still run.
import { tempDir } from './helpers/temp.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { canMount, fixturesDir, runCli, runCliWithMounts } from './helpers/cli.js';
import { filesystemErrorText } from '../src/util/errors.js';

const tmp = tempDir('prefdyn-fs-errors-');
const model = path.join(tmp, 'model');
const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
const cache = path.join(tmp, 'cache');
const env = { PREFDYN_CACHE_DIR: cache };
const aFile = path.join(tmp, 'a-file');
const trainArgs = ['--model', model, '--data', data, '--batch-size', '4', '--gradient-accumulation-steps', '1'];
const run = path.join(tmp, 'run');
const noMount = canMount ? false : 'this machine allows no private mounts (unshare -rm)';

before(() => {
  fs.writeFileSync(aFile, 'not a folder\n');
  const init = runCli(['model', 'init', '--arch', 'llama', '--size', 'd=8,layers=1,heads=2,kv=1', '--out', model]);
  assert.equal(init.code, 0, init.stderr);
  // A LoRA run stopped after 1 of 2 steps, with its checkpoint: an adapter to merge and a run to resume.
  const lora = runCli(['train', ...trainArgs, '--mode', 'lora', '--steps', '2', '--save-every', '1', '--out', run], {
    env,
  });
  assert.equal(lora.code, 0, lora.stderr);
  fs.rmSync(path.join(run, 'checkpoints', 'step-2'), { recursive: true });
});

/** A fresh empty folder to mount over. */
function mountPoint(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  return dir;
}

/** Commands that write under `dir`: [name, arguments, the path the error must name]. */
function writers(dir: string): [string, string[], string][] {
  const init = ['model', 'init', '--arch', 'llama', '--size', 'd=8,layers=1,heads=2,kv=1'];
  const scoring = ['--model', model, '--data', data, '--out'];
  return [
    ['logprobs', ['logprobs', ...scoring, path.join(dir, 'lp.jsonl')], path.join(dir, 'lp.jsonl')],
    ['data export', ['data', 'export', data, '--out', path.join(dir, 'pairs.jsonl')], path.join(dir, 'pairs.jsonl')],
    ['embed', ['embed', ...scoring, path.join(dir, 'e')], path.join(dir, 'e.safetensors')],
    ['model init', [...init, '--out', path.join(dir, 'm')], path.join(dir, 'm')],
  ];
}

function assertOneLine(r: { code: number; stderr: string }, expected: string, what: string): void {
  assert.deepEqual([r.code, r.stderr.trim().split('\n').at(-1)], [1, expected], `${what}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|    at /, what);
}

test(
  'a read-only output folder: one line naming the output, exit 1, in every command that writes',
  { skip: noMount },
  () => {
    const ro = mountPoint('read-only');
    const cases: [string, string[], string][] = [
      ['train', ['train', ...trainArgs, '--steps', '1', '--out', path.join(ro, 'run')], path.join(ro, 'run')],
      ...writers(ro),
      [
        'model merge',
        [
          'model',
          'merge',
          '--model',
          model,
          '--adapter',
          path.join(run, 'checkpoints', 'step-1'),
          '--out',
          path.join(ro, 'm'),
        ],
        path.join(ro, 'm'),
      ],
    ];
    for (const [what, args, target] of cases) {
      const r = runCliWithMounts(args, [{ dir: ro, kind: 'read-only' }], { env });
      assertOneLine(r, `prefdyn: ${target}: read-only file system (EROFS)`, what);
    }
    const resumed = runCliWithMounts(['train', '--resume', run], [{ dir: run, kind: 'read-only' }], { env });
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(
      resumed.stderr.trim().split('\n').at(-1)!,
      new RegExp(`^prefdyn: ${run}/\\S+: read-only file system \\(EROFS\\)$`),
    );
  },
);

test('a full disk: one line naming the output, exit 1, for outputs and caches alike', { skip: noMount }, () => {
  const full = mountPoint('full');
  const cases = writers(full);
  for (const [what, args, target] of cases) {
    const r = runCliWithMounts(args, [{ dir: full, kind: 'full' }], { env });
    assertOneLine(r, `prefdyn: ${target}: no space left on device (ENOSPC)`, what);
  }
  // The caches: a full cache folder stops the run at its first cache write, naming that file.
  const r = runCliWithMounts(
    ['train', ...trainArgs, '--steps', '1', '--out', path.join(tmp, 'never')],
    [{ dir: full, kind: 'full' }],
    {
      env: { PREFDYN_CACHE_DIR: full },
    },
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr.trim().split('\n').at(-1)!,
    new RegExp(`^prefdyn: ${full}/\\S+: no space left on device \\(ENOSPC\\)$`),
  );
});

test('a file where a model folder or the cache folder is expected: one line naming the file', () => {
  const where = `${path.join(aFile, 'config.json')}: ${aFile} is a file, not a folder (ENOTDIR)`;
  assertOneLine(runCli(['model', 'info', aFile]), `prefdyn: ${where}`, 'model info FILE');
  assertOneLine(
    runCli(
      ['train', ...trainArgs, '--out', path.join(tmp, 'r2')].map((a) => (a === model ? aFile : a)),
      { env },
    ),
    `prefdyn: ${aFile}: a file, not a folder (ENOTDIR)`,
    'train --model FILE',
  );
  const r = runCli(['train', ...trainArgs, '--steps', '1', '--out', path.join(tmp, 'r3')], {
    env: { PREFDYN_CACHE_DIR: aFile },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `prefdyn: PREFDYN_CACHE_DIR=${aFile}: the cache must be a folder, this is a file\n`);
});

test('a config file that is a list or not YAML: one line naming it, exit 1', () => {
  const list = path.join(tmp, 'list.yaml');
  fs.writeFileSync(list, '- lr: 1\n- beta: 2\n');
  assertOneLine(
    runCli(['train', '--config', list]),
    `prefdyn: config file ${list} must hold a mapping of option: value`,
    'list',
  );
  const broken = path.join(tmp, 'broken.yaml');
  fs.writeFileSync(broken, 'lr: [1,\n');
  const r = runCli(['train', '--config', broken]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^prefdyn: config file ${broken} is not valid YAML: [^\\n]+\\n$`));
  const missing = runCli(['train', '--config', path.join(tmp, 'none.yaml')]);
  assertOneLine(missing, `prefdyn: cannot read config file ${path.join(tmp, 'none.yaml')}: ENOENT`, 'missing');
});

test('only filesystem errors become one line: anything else stays a bug (exit 70)', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    syscall: 'write',
  });
  assert.equal(filesystemErrorText(enospc), 'write: no space left on device (ENOSPC)');
  const rename = Object.assign(new Error('EXDEV'), { code: 'EXDEV', syscall: 'rename', path: 'a', dest: 'b' });
  assert.equal(filesystemErrorText(rename), 'a -> b: not on the same file system (EXDEV)');
  assert.equal(filesystemErrorText(new TypeError('x is undefined')), undefined);
  const badFd = Object.assign(new Error('EBADF: bad file descriptor'), { code: 'EBADF', syscall: 'write' });
  assert.equal(filesystemErrorText(badFd), undefined);
  assert.equal(filesystemErrorText(Object.assign(new Error('no syscall'), { code: 'ENOENT' })), undefined);
});

test('model init refuses a size whose weights cannot fit in memory, before allocating them', () => {
  const out = path.join(tmp, 'huge');
  const r = runCli(['model', 'init', '--arch', 'llama', '--size', 'd=65536,layers=200,heads=64', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^prefdyn: --size d=65536,layers=200,heads=64: 10,311,451,148,288 parameters need 37\.5 TB of memory as F32, more than this machine's \d+(\.\d)? [KMGT]?B\n$/,
  );
  assert.equal(fs.existsSync(out), false);
});
