// scripts/make-random-model.mjs: a seeded, sharded, 16-bit Hugging Face folder that prefdyn reads as a
// user's checkpoint (index + shards, config.json, tokenizer), the same bytes for the same options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { loadModel } from '../src/model/load.js';
import { validateCheckpoint } from '../src/model/checkpoint.js';
import { parameterCount } from '../src/model/config.js';

const tmp = tempDir('prefdyn-random-model-');
const script = path.join(repoRoot, 'scripts', 'make-random-model.mjs');
const make = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

test('make-random-model writes a seeded sharded BF16 folder that loads with its matrices kept 16-bit', async () => {
  const out = path.join(tmp, 'a');
  const args = ['--size', 'd=64,layers=2,heads=4,kv=2', '--shard-mb', '0.5', '--seed', '7'];
  const r = make(...args, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const index = JSON.parse(fs.readFileSync(path.join(out, 'model.safetensors.index.json'), 'utf8'));
  const shards = [...new Set(Object.values(index.weight_map))].sort();
  assert.ok(shards.length >= 2, `several shards: ${shards.join(', ')}`);
  assert.deepEqual(
    shards,
    shards.map((_, i) => `model-0000${i + 1}-of-0000${shards.length}.safetensors`),
  );
  const checked = validateCheckpoint(out);
  assert.deepEqual([...checked.dtypes.keys()], ['BF16']);
  assert.equal(index.metadata.total_size, 2 * parameterCount(checked.config));
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  assert.ok(fs.existsSync(path.join(out, 'tokenizer.json')));
  const model = await loadModel(out);
  assert.equal(model.params().get('model.layers.0.mlp.up_proj.weight')!.dtype, 'BF16');
  assert.equal(model.params().get('model.norm.weight')!.dtype, 'F32');

  const again = path.join(tmp, 'b');
  assert.equal(make(...args, '--out', again).status, 0);
  for (const f of fs.readdirSync(out))
    assert.deepEqual(fs.readFileSync(path.join(again, f)), fs.readFileSync(path.join(out, f)), f);

  fs.writeFileSync(path.join(tmp, 'notes.txt'), 'mine');
  const refused = make('--out', tmp);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^make-random-model: --out .*notes\.txt/);
});
