// Atomic writes: a target is complete or as it was, never half-written; no temporary is left behind;
// missing parent folders are created; a folder target that is a file is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openAtomic, writeFileAtomic, writeFolderAtomic } from '../src/util/atomic-write.js';
import { UserError } from '../src/util/errors.js';
import { tempDir } from './helpers/temp.js';

test('writeFileAtomic writes text, bytes and byte parts, creating missing folders and leaving no temporary', () => {
  const root = tempDir('prefdyn-atomic-');
  const file = path.join(root, 'a', 'b', 'f.bin');
  writeFileAtomic(file, 'héllo\n');
  assert.equal(fs.readFileSync(file, 'utf8'), 'héllo\n');
  writeFileAtomic(file, Uint8Array.of(1, 2, 3));
  assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
  const floats = Float32Array.of(1.5, -2);
  writeFileAtomic(file, [Uint8Array.of(9), new Uint8Array(floats.buffer), new Uint8Array(0)]);
  const back = fs.readFileSync(file);
  assert.equal(back[0], 9);
  assert.deepEqual([...new Float32Array(back.buffer.slice(back.byteOffset + 1, back.byteOffset + 9))], [1.5, -2]);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['f.bin']);
});

test('writeFileAtomic: a failed rename removes the temporary and leaves the target as it was', () => {
  const root = tempDir('prefdyn-atomic-');
  const target = path.join(root, 'taken');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'keep.txt'), 'keep');
  assert.throws(() => writeFileAtomic(target, 'new'), { code: 'EISDIR' });
  assert.deepEqual(fs.readdirSync(root), ['taken']);
  assert.deepEqual(fs.readdirSync(target), ['keep.txt']);
});

test('openAtomic: an aborted stream keeps the previous file; a committed one replaces it', () => {
  const root = tempDir('prefdyn-atomic-');
  const file = path.join(root, 'lines.jsonl');
  fs.writeFileSync(file, 'old\n');
  const aborted = openAtomic(file);
  aborted.write(Buffer.from('half'));
  aborted.abort();
  aborted.abort();
  assert.equal(fs.readFileSync(file, 'utf8'), 'old\n');
  assert.deepEqual(fs.readdirSync(root), ['lines.jsonl']);
  const done = openAtomic(file);
  done.write(Buffer.from('new\n'));
  assert.equal(fs.readFileSync(file, 'utf8'), 'old\n'); // not visible before commit
  done.commit();
  assert.equal(fs.readFileSync(file, 'utf8'), 'new\n');
  assert.deepEqual(fs.readdirSync(root), ['lines.jsonl']);
});

test('an aborted write removes the folders it created, and only those', () => {
  const root = tempDir('prefdyn-atomic-');
  fs.mkdirSync(path.join(root, 'kept'));
  const out = openAtomic(path.join(root, 'kept', 'new', 'deeper', 'f.jsonl'));
  out.abort();
  assert.throws(
    () =>
      writeFolderAtomic(path.join(root, 'fresh', 'run'), () => {
        throw new Error('stop');
      }),
    { message: 'stop' },
  );
  assert.deepEqual(fs.readdirSync(root), ['kept']);
  assert.deepEqual(fs.readdirSync(path.join(root, 'kept')), []);
});

test('writeFolderAtomic creates a new folder (and its parents) and replaces a previous one whole', () => {
  const root = tempDir('prefdyn-atomic-');
  const dir = path.join(root, 'x', 'model');
  writeFolderAtomic(dir, (tmp) => fs.writeFileSync(path.join(tmp, 'one.txt'), '1'));
  assert.deepEqual(fs.readdirSync(dir), ['one.txt']);
  writeFolderAtomic(dir, (tmp) => fs.writeFileSync(path.join(tmp, 'two.txt'), '2'));
  assert.deepEqual(fs.readdirSync(dir), ['two.txt']);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['model']);
});

test('writeFolderAtomic: a failing fill keeps the previous folder and leaves no temporary', () => {
  const root = tempDir('prefdyn-atomic-');
  const dir = path.join(root, 'ckpt');
  writeFolderAtomic(dir, (tmp) => fs.writeFileSync(path.join(tmp, 'w.bin'), 'good'));
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  assert.throws(
    () =>
      writeFolderAtomic(dir, (tmp) => {
        fs.writeFileSync(path.join(tmp, 'w.bin'), 'partial');
        throw full;
      }),
    (err) => err === full,
  );
  assert.equal(fs.readFileSync(path.join(dir, 'w.bin'), 'utf8'), 'good');
  assert.deepEqual(fs.readdirSync(root), ['ckpt']);
});

test('writeFolderAtomic refuses a target that is a file, before filling anything', () => {
  const root = tempDir('prefdyn-atomic-');
  const file = path.join(root, 'f');
  fs.writeFileSync(file, 'keep');
  let filled = false;
  assert.throws(
    () =>
      writeFolderAtomic(file, () => {
        filled = true;
      }),
    (err) => err instanceof UserError && err.message === `${file}: exists and is not a folder`,
  );
  assert.equal(filled, false);
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep');
  assert.deepEqual(fs.readdirSync(root), ['f']);
});
