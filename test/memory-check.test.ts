// The memory check before loading: the memory available (PREFDYN_MEMORY_LIMIT, MemAvailable, a cgroup
// limit), the estimate's parts, and commands that stop with one line, before reading any weight or
// writing anything, when the estimate exceeds the memory available.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, runCli } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { tempDir } from './helpers/temp.js';
import { availableMemory } from '../src/util/memory.js';
import { estimateMemory } from '../src/model/memory-estimate.js';
import { parameterCount } from '../src/model/config.js';
import { validateCheckpoint } from '../src/model/checkpoint.js';

const tmp = tempDir('prefdyn-memory-');
const data = path.join(fixturesDir, 'train', 'pairs.jsonl');

test('the memory available: PREFDYN_MEMORY_LIMIT first, else the smaller of MemAvailable and the cgroup allowance', () => {
  assert.deepEqual(availableMemory({ PREFDYN_MEMORY_LIMIT: '2G' }), {
    bytes: 2 * 1024 ** 3,
    source: 'PREFDYN_MEMORY_LIMIT',
  });
  assert.equal(availableMemory({ PREFDYN_MEMORY_LIMIT: '1536' })?.bytes, 1536);
  assert.equal(availableMemory({ PREFDYN_MEMORY_LIMIT: '0.5MiB' })?.bytes, 512 * 1024);
  assert.throws(() => availableMemory({ PREFDYN_MEMORY_LIMIT: 'lots' }), {
    message: 'PREFDYN_MEMORY_LIMIT must be a byte count such as 8G or 512M, got "lots"',
  });
  const meminfo = path.join(tmp, 'meminfo');
  fs.writeFileSync(meminfo, 'MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n');
  const cgroup = path.join(tmp, 'cgroup');
  fs.mkdirSync(cgroup);
  const files = { meminfo, cgroup };
  assert.deepEqual(availableMemory({}, files), { bytes: 8000000 * 1024, source: `MemAvailable in ${meminfo}` });
  fs.writeFileSync(path.join(cgroup, 'memory.max'), 'max\n'); // no limit
  assert.equal(availableMemory({}, files)?.bytes, 8000000 * 1024);
  fs.writeFileSync(path.join(cgroup, 'memory.max'), `${3 * 1024 ** 3}\n`);
  fs.writeFileSync(path.join(cgroup, 'memory.current'), `${1024 ** 3}\n`);
  assert.deepEqual(availableMemory({}, files), {
    bytes: 2 * 1024 ** 3,
    source: `the cgroup limit in ${path.join(cgroup, 'memory.max')}`,
  });
  assert.equal(availableMemory({}, { meminfo: path.join(tmp, 'none'), cgroup: path.join(tmp, 'none') }), undefined);
});

test('the estimate: weights as kept (16-bit matrices at 2 bytes), no optimizer without training, AdamW state when training', async () => {
  const dir = path.join(tmp, 'tiny');
  initTinyLlama(dir);
  const { config, keptBytes } = validateCheckpoint(dir);
  assert.equal(keptBytes, 4 * parameterCount(config), 'an F32 folder keeps 4 bytes a parameter');
  const w = { sequences: 4, seqLen: 16 };
  const none = estimateMemory(config, keptBytes, { ...w, training: 'none' });
  assert.equal(none.weights, keptBytes);
  assert.equal(none.optimizer, 0);
  assert.equal(none.total, none.weights + none.activations + none.optimizer);
  const full = estimateMemory(config, keptBytes, { ...w, training: 'full' });
  assert.equal(full.optimizer, 16 * parameterCount(config), 'gradient, m, v and the starting copy');
  assert.ok(full.activations > none.activations, 'training keeps every layer');
  // A 16-bit folder: its weights count half, and full training pays for their F32 copies.
  const half = estimateMemory(config, keptBytes / 2, { ...w, training: 'full' });
  assert.equal(half.optimizer, full.optimizer + keptBytes / 2);
  const lora = estimateMemory(config, keptBytes, { ...w, training: 'lora', loraParams: 1000 });
  assert.equal(lora.optimizer, 16000);
});

test('embed, logprobs and train stop in one line when the estimate exceeds the memory available, writing nothing', () => {
  const dir = path.join(tmp, 'tiny');
  if (!fs.existsSync(dir)) initTinyLlama(dir);
  const env = { PREFDYN_MEMORY_LIMIT: '64K', PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
  const tail =
    'but only 64.0 KB is available (PREFDYN_MEMORY_LIMIT); use a smaller --batch-size or --max-length, a smaller model, or a machine with more memory (PREFDYN_MEMORY_LIMIT overrides the figure)\n';
  const runs: [string, string[], string][] = [
    [
      'embed',
      ['embed', '--model', dir, '--data', data, '--out', path.join(tmp, 'emb')],
      path.join(tmp, 'emb.safetensors'),
    ],
    [
      'logprobs',
      ['logprobs', '--model', dir, '--data', data, '--out', path.join(tmp, 'lp.jsonl')],
      path.join(tmp, 'lp.jsonl'),
    ],
    [
      'train',
      [
        'train',
        '--model',
        dir,
        '--data',
        data,
        '--mode',
        'lora',
        '--batch-size',
        '2',
        '--gradient-accumulation-steps',
        '1',
        '--out',
        path.join(tmp, 'run'),
      ],
      path.join(tmp, 'run', 'metrics.jsonl'),
    ],
  ];
  for (const [command, args, output] of runs) {
    const r = runCli(args, { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^prefdyn: ${command} needs about [\\d.]+ [KM]B \\(weights [\\d.]+ [KM]B, activations [\\d.]+ [KM]B, optimizer [\\d.]+ [KM]?B\\) `,
      ),
    );
    assert.ok(r.stderr.endsWith(tail), r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
    assert.ok(!fs.existsSync(output), `${output} not written`);
  }
});
