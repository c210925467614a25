// Output options: a missing folder is fine (created on write); a path that can never work is refused
// with the option, the path and what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkOutputFile, checkOutputFolder } from '../src/util/output-path.js';
import { tempDir } from './helpers/temp.js';

const root = tempDir('prefdyn-outpath-');
const file = path.join(root, 'notes.txt');
fs.writeFileSync(file, 'x');

test('missing parents and missing targets are accepted, and nothing is created by the check', () => {
  checkOutputFile('--json', path.join(root, 'a', 'b', 'c.json'));
  checkOutputFolder('--out', path.join(root, 'a', 'b', 'run'));
  checkOutputFile('--out', file);
  checkOutputFolder('--out', root);
  assert.deepEqual(fs.readdirSync(root), ['notes.txt']);
});

test('a file among the parents is named, for files and folders alike', () => {
  const deep = path.join(file, 'sub', 'out.json');
  assert.throws(() => checkOutputFile('--json', deep), { message: `--json ${deep}: ${file} is a file, not a folder` });
  const run = path.join(file, 'run');
  assert.throws(() => checkOutputFolder('--out', run), { message: `--out ${run}: ${file} is a file, not a folder` });
});

test('an output that exists as the wrong kind is refused', () => {
  assert.throws(() => checkOutputFile('--out', root), { message: `--out ${root}: is a folder; give a file name` });
  assert.throws(() => checkOutputFolder('--out', file), { message: `--out ${file}: exists and is not a folder` });
});
