// The one disk cache (src/train/disk-cache.ts): every entry carries a manifest with each file's size
// and SHA-256, checked on read; a damaged entry (same size, other bytes) or a truncated one is
// recomputed with one line on stderr, never used; the kernel set is part of every key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadNativeKernels } from '../src/tensor/kernels/native/load.js';
import { runCli, fixturesDir } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-disk-cache-');
const model = path.join(tmp, 'tiny');
const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
const DAMAGED = /^prefdyn: cache entry (\S+\.json) is damaged \((.*)\); recomputing it$/m;

test('setup: a tiny model', () => initTinyLlama(model));

const train = (out: string, env: NodeJS.ProcessEnv, mode = 'lora') =>
  runCli(
    [
      'train',
      '--model',
      model,
      '--data',
      data,
      '--mode',
      mode,
      '--test-fraction',
      '0.25',
      '--batch-size',
      '4',
      '--gradient-accumulation-steps',
      '1',
      '--steps',
      '1',
      '--lr',
      '0.01',
      '--out',
      path.join(tmp, out),
    ],
    { env },
  );
const step0 = (run: string) =>
  fs
    .readFileSync(path.join(tmp, run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => l.step === 0);

test('a ref-logps entry with the right size but other bytes is recomputed, not used: step-0 policy accuracy stays', () => {
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache-ref') };
  const first = train('ref1', env);
  assert.equal(first.code, 0, first.stderr);
  const bin = /reference log-probs computed and cached in (\S+\.bin)$/m.exec(first.stderr)?.[1];
  assert.ok(bin, first.stderr);
  const manifest = JSON.parse(fs.readFileSync(bin.replace(/\.bin$/, '.json'), 'utf8'));
  assert.equal(manifest.purpose, 'ref-logps');
  assert.deepEqual(
    manifest.files.map((f: { name: string; bytes: number }) => [f.name, f.bytes]),
    [[path.basename(bin), 16 * 2 * 8]],
  );
  // Same size, every chosen log-prob far above its rejected one: a policy at the reference would look perfect.
  const fake = new Float64Array(32);
  for (let i = 0; i < 16; i++) fake.set([0, -100], 2 * i);
  fs.writeFileSync(bin, new Uint8Array(fake.buffer));
  const second = train('ref2', env);
  assert.equal(second.code, 0, second.stderr);
  const damaged = DAMAGED.exec(second.stderr);
  assert.ok(damaged, second.stderr);
  assert.equal(damaged[2], `${bin} does not match its checksum`);
  assert.equal(second.stderr.split('\n').filter((l) => l.includes('is damaged')).length, 1);
  assert.match(second.stderr, /reference log-probs computed and cached in /);
  const acc = (run: string) => step0(run).map((l) => [l.split, l.group, l['policy/accuracies']]);
  assert.deepEqual(acc('ref2'), acc('ref1'));
  assert.ok(
    step0('ref1').some((l) => l['policy/accuracies'] < 1),
    'the fixture has pairs the starting model gets wrong',
  );
  // Repaired: the third run reads the entry without a notice.
  const third = train('ref3', env);
  assert.equal(third.code, 0, third.stderr);
  assert.doesNotMatch(third.stderr, /damaged/);
  assert.match(third.stderr, /reference log-probs read from /);
});

test('a truncated hidden-states entry is recomputed with a notice', () => {
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache-hidden') };
  const first = train('hid1', env, 'last-layer');
  assert.equal(first.code, 0, first.stderr);
  const bin = /hidden states computed and cached in (\S+\.bin)$/m.exec(first.stderr)?.[1];
  assert.ok(bin, first.stderr);
  const size = fs.statSync(bin).size;
  fs.truncateSync(bin, size - 4);
  const second = train('hid2', env, 'last-layer');
  assert.equal(second.code, 0, second.stderr);
  assert.equal(DAMAGED.exec(second.stderr)?.[2], `${bin} has ${size - 4} bytes, the manifest says ${size}`);
  assert.equal(fs.statSync(bin).size, size);
  assert.deepEqual(step0('hid2'), step0('hid1'));
});

test('an embeddings entry with other bytes is recomputed: the analysis (Delta) equals the undamaged one', () => {
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache-emb') };
  const json = path.join(tmp, 'a.json');
  const analyze = () =>
    runCli(['analyze', '--model', model, '--data', data, '--json', json, '--bootstrap', '0'], { env });
  const first = analyze();
  assert.equal(first.code, 0, first.stderr);
  const name = /^prefdyn: wrote embeddings (.+)\.safetensors$/m.exec(first.stderr)?.[1];
  assert.ok(name, first.stderr);
  const clean = fs.readFileSync(json, 'utf8');
  const tensors = `${name}.safetensors`;
  const bytes = fs.readFileSync(tensors);
  // Scale the last row's floats by 3 (same size): Delta would move.
  const view = new Float32Array(bytes.buffer, bytes.byteOffset + bytes.length - 4 * 32, 32);
  for (let i = 0; i < 32; i++) view[i]! *= 3;
  fs.writeFileSync(tensors, bytes);
  const second = analyze();
  assert.equal(second.code, 0, second.stderr);
  assert.equal(DAMAGED.exec(second.stderr)?.[2], `${tensors} does not match its checksum`);
  assert.match(second.stderr, /^prefdyn: wrote embeddings /m);
  assert.equal(fs.readFileSync(json, 'utf8'), clean);
  assert.equal(second.stdout, first.stdout);
  // A missing rows file is an incomplete entry: recomputed too.
  fs.rmSync(`${name}.rows.jsonl`);
  const third = analyze();
  assert.equal(third.code, 0, third.stderr);
  assert.equal(DAMAGED.exec(third.stderr)?.[2], `${name}.rows.jsonl is missing`);
  assert.equal(fs.readFileSync(json, 'utf8'), clean);
});

test('another kernel set (PREFDYN_KERNELS) uses another entry', (t) => {
  if (!loadNativeKernels().kernels) return t.skip('the native kernels are not built');
  const env = (k: string) => ({ PREFDYN_CACHE_DIR: path.join(tmp, 'cache-kernels'), PREFDYN_KERNELS: k });
  const files = ['js', 'native'].map((k) => {
    const r = train(`k-${k}`, env(k));
    assert.equal(r.code, 0, r.stderr);
    const bin = /reference log-probs computed and cached in (\S+\.bin)$/m.exec(r.stderr)?.[1];
    assert.ok(bin, `${k}: computed afresh, not read from the other set's entry\n${r.stderr}`);
    return bin;
  });
  assert.notEqual(files[0], files[1]);
  const kernelsOf = (bin: string) => JSON.parse(fs.readFileSync(bin.replace(/\.bin$/, '.json'), 'utf8')).kernels;
  assert.equal(kernelsOf(files[0]!), 'js');
  assert.match(kernelsOf(files[1]!), /^native \(OpenBLAS .+\)$/);
});

test('a cache that cannot be written is one line naming it, exit 1, not an internal error', () => {
  const file = path.join(tmp, 'not-a-folder');
  fs.writeFileSync(file, '');
  const r = train('nf', { PREFDYN_CACHE_DIR: file });
  assert.deepEqual(
    [r.code, r.stderr],
    [1, `prefdyn: PREFDYN_CACHE_DIR=${file}: the cache must be a folder, this is a file\n`],
  );
  // file-hashes/ and ref-logps/ blocked by files: the hash memo is skipped, the entry cannot be written.
  const cache = path.join(tmp, 'blocked-cache');
  fs.mkdirSync(cache);
  for (const purpose of ['file-hashes', 'ref-logps']) fs.writeFileSync(path.join(cache, purpose), '');
  const blocked = train('blocked', { PREFDYN_CACHE_DIR: cache });
  assert.equal(blocked.code, 1, blocked.stderr);
  assert.match(
    blocked.stderr,
    /^prefdyn: \S+\/blocked-cache\/ref-logps\/[0-9a-f]{64}\S*: \S+\/blocked-cache\/ref-logps is a file, not a folder \(ENOTDIR\)\n$/,
  );
});
