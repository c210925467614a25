// The on-disk caches: model files' content hashes memoised by (path, size, mtime, inode), and
// last-layer mode's hidden states reused by later runs under the same fingerprint scheme as the
// reference log-probs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileHash, folderHash } from '../src/util/file-hash.js';
import { runCli, fixturesDir } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-cache-');
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

test('file hashes are content hashes, memoised until the file changes; a changed file changes the folder hash', () => {
  process.env.PREFDYN_CACHE_DIR = path.join(tmp, 'cache-unit');
  const dir = path.join(tmp, 'model');
  fs.mkdirSync(dir);
  const weights = path.join(dir, 'model.safetensors');
  fs.writeFileSync(weights, 'weights v1');
  fs.writeFileSync(path.join(dir, 'config.json'), '{}');
  assert.equal(fileHash(weights), sha256('weights v1'));
  const before = folderHash(dir);
  assert.equal(before, sha256(`config.json\0${sha256('{}')}\nmodel.safetensors\0${sha256('weights v1')}\n`));
  const memos = fs.readdirSync(path.join(tmp, 'cache-unit', 'file-hashes'));
  assert.equal(memos.length, 2);
  const memoFile = path.join(tmp, 'cache-unit', 'file-hashes', `${sha256(weights)}.json`);
  const memo = JSON.parse(fs.readFileSync(memoFile, 'utf8'));
  const st = fs.statSync(weights);
  assert.deepEqual(memo, {
    path: weights,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    sha256: sha256('weights v1'),
  });
  // The memo is what an unchanged file's hash comes from: the bytes are not read again.
  fs.writeFileSync(memoFile, JSON.stringify({ ...memo, sha256: 'f'.repeat(64) }));
  assert.equal(fileHash(weights), 'f'.repeat(64));
  // Same size, new bytes, new mtime: hashed again.
  fs.writeFileSync(weights, 'weights v2');
  fs.utimesSync(weights, new Date(), new Date(st.mtimeMs + 5000));
  assert.equal(fileHash(weights), sha256('weights v2'));
  const after = folderHash(dir);
  assert.notEqual(after, before);
  assert.equal(after, sha256(`config.json\0${sha256('{}')}\nmodel.safetensors\0${sha256('weights v2')}\n`));
  // Another size: hashed again, even with the old mtime.
  fs.writeFileSync(weights, 'weights v3, longer');
  fs.utimesSync(weights, new Date(), new Date(st.mtimeMs + 5000));
  assert.equal(fileHash(weights), sha256('weights v3, longer'));
});

test('a repeated last-layer run reads its hidden states from the cache and logs the same numbers; a changed model recomputes them', () => {
  const model = path.join(tmp, 'tiny');
  const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
  initTinyLlama(model);
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache-cli') };
  const train = (out: string) =>
    runCli(
      [
        'train',
        '--model',
        model,
        '--data',
        data,
        '--mode',
        'last-layer',
        '--test-fraction',
        '0.25',
        '--batch-size',
        '12',
        '--steps',
        '3',
        '--lr',
        '5',
        '--out',
        path.join(tmp, out),
      ],
      { env },
    );
  const first = train('run1');
  assert.equal(first.code, 0, first.stderr);
  const computed = /prefdyn: hidden states computed and cached in (.*hidden\/[0-9a-f]{64}\.bin)$/m.exec(first.stderr);
  assert.ok(computed, first.stderr);
  const meta = JSON.parse(fs.readFileSync(computed[1]!.replace(/\.bin$/, '.json'), 'utf8'));
  assert.equal(meta.purpose, 'hidden');
  assert.equal(meta.n_pairs, 16);
  // In this tokenizer " yes" is 2 tokens + EOS and " no" one: 4 scored positions per pair, d = 32 floats each.
  assert.equal(fs.statSync(computed[1]!).size, 16 * 4 * 32 * 4);
  const second = train('run2');
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(`^prefdyn: hidden states read from ${computed[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
  );
  const metrics = (run: string) => fs.readFileSync(path.join(tmp, run, 'metrics.jsonl'), 'utf8');
  assert.equal(metrics('run2'), metrics('run1'));
  // A changed weights file is a new fingerprint: computed afresh, not read.
  const weights = path.join(model, 'model.safetensors');
  const bytes = fs.readFileSync(weights);
  bytes[bytes.length - 1]! ^= 1;
  fs.writeFileSync(weights, bytes);
  const third = train('run3');
  assert.equal(third.code, 0, third.stderr);
  const recomputed = /prefdyn: hidden states computed and cached in (.*\.bin)$/m.exec(third.stderr);
  assert.ok(recomputed, third.stderr);
  assert.notEqual(recomputed[1], computed[1]);
});
