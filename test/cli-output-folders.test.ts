// --out never loses what prefdyn did not write: an output folder that is, contains or lies inside an
// input is refused (real paths: a link to the input is the input), and so is a non-empty folder
// holding entries the command does not write, unless --overwrite; a folder of prefdyn's own is replaced.
import { tempDir } from './helpers/temp.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, runCli } from './helpers/cli.js';
import { checkOutputFolder } from '../src/util/output-path.js';

const tmp = tempDir('prefdyn-out-folders-');
const model = path.join(tmp, 'model');
const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
const init = ['model', 'init', '--arch', 'llama', '--size', 'd=8,layers=1,heads=2,kv=1'];
const trainArgs = ['--model', model, '--data', data, '--batch-size', '4', '--gradient-accumulation-steps', '1'];
const adapter = path.join(tmp, 'lora', 'checkpoints', 'step-1');

before(() => {
  assert.equal(runCli([...init, '--out', model]).code, 0);
  const lora = runCli(['train', ...trainArgs, '--mode', 'lora', '--steps', '1', '--out', path.join(tmp, 'lora')], {
    env,
  });
  assert.equal(lora.code, 0, lora.stderr);
});

/** A folder holding a file of the user's. */
function notesFolder(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'README.md'), 'mine\n');
  return dir;
}

// Each model-writing command with --out left for the caller.
const modelWriters: [string, string[]][] = [
  ['model init', init],
  ['model merge', ['model', 'merge', '--model', model, '--adapter', adapter]],
  ['pretrain', ['pretrain', '--model', model, '--text', 'persona:agreeableness', '--steps', '1', '--batch-size', '2']],
];

test('an --out that is, contains or lies inside an input is refused, links resolved', () => {
  const link = path.join(tmp, 'link-to-model');
  fs.symlinkSync(model, link);
  const before = fs.readdirSync(model).sort();
  for (const [what, args] of modelWriters.slice(1)) {
    for (const [out, relation] of [
      [model, 'is'],
      [link, 'is'],
      [tmp, 'contains'],
      [path.join(model, 'sub'), 'is inside'],
    ] as const) {
      const r = runCli([...args, '--out', out, '--overwrite'], { env });
      assert.deepEqual(
        [r.code, r.stderr],
        [1, `prefdyn: --out ${out}: ${relation} the input --model ${model}; write the output elsewhere\n`],
        `${what} --out ${out}`,
      );
    }
  }
  const tokenizer = path.join(fixturesDir, 'tokenizers');
  const r = runCli([...init, '--tokenizer', tokenizer, '--out', tokenizer]);
  assert.equal(
    r.stderr,
    `prefdyn: --out ${tokenizer}: is the input --tokenizer ${tokenizer}; write the output elsewhere\n`,
  );
  const run = runCli(['train', ...trainArgs, '--out', path.join(model, 'run')], { env });
  assert.equal(
    run.stderr,
    `prefdyn: --out ${path.join(model, 'run')}: is inside the input --model ${model}; write the output elsewhere\n`,
  );
  assert.deepEqual(fs.readdirSync(model).sort(), before);
});

test('a folder with files prefdyn did not write is refused, kept whole, and replaced only with --overwrite', () => {
  for (const [what, args] of modelWriters) {
    const dir = notesFolder(`notes-${what.replace(' ', '-')}`);
    const r = runCli([...args, '--out', dir], { env });
    assert.deepEqual(
      [r.code, r.stderr],
      [
        1,
        `prefdyn: --out ${dir}: holds an entry prefdyn did not write (README.md); choose another --out, or give --overwrite to replace the folder, deleting it\n`,
      ],
      what,
    );
    assert.deepEqual(fs.readdirSync(dir), ['README.md'], what);
    const forced = runCli([...args, '--out', dir, '--overwrite'], { env });
    assert.equal(forced.code, 0, `${what}: ${forced.stderr}`);
    assert.ok(!fs.existsSync(path.join(dir, 'README.md')) && fs.existsSync(path.join(dir, 'config.json')), what);
    // Now the folder is prefdyn's: written again without --overwrite.
    assert.equal(runCli([...args, '--out', dir], { env }).code, 0, what);
  }
  const runDir = notesFolder('notes-train');
  const r = runCli(['train', ...trainArgs, '--steps', '1', '--out', runDir], { env });
  assert.equal(
    r.stderr,
    `prefdyn: --out ${runDir}: holds an entry prefdyn did not write (README.md); choose another --out, or give --overwrite to write into it anyway\n`,
  );
  const forced = runCli(['train', ...trainArgs, '--steps', '1', '--out', runDir, '--overwrite'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(fs.readdirSync(runDir).sort(), [
    'README.md',
    'checkpoints',
    'config.json',
    'metrics.jsonl',
    'summary.json',
  ]);
});

test('checkOutputFolder: an empty folder, a missing one and a folder of the written kind pass; hidden temporaries too', () => {
  const writes = (name: string) => name === 'a.json';
  const dir = path.join(tmp, 'own');
  checkOutputFolder('--out', dir, { writes });
  fs.mkdirSync(dir);
  checkOutputFolder('--out', dir, { writes });
  fs.writeFileSync(path.join(dir, 'a.json'), '{}');
  checkOutputFolder('--out', dir, { writes });
  for (const name of ['b', 'c', 'd', 'e']) fs.writeFileSync(path.join(dir, name), '');
  assert.throws(() => checkOutputFolder('--out', dir, { writes }), {
    message: `--out ${dir}: holds 4 entries prefdyn did not write (b, c, d, ...); choose another --out, or give --overwrite to write into it anyway`,
  });
  checkOutputFolder('--out', dir, { writes, overwrite: true });
  // A sibling whose name starts with the input's is not inside it.
  checkOutputFolder('--out', `${model}-2`, { inputs: [{ option: '--model', path: model }] });
});
