// scripts/embed_hf.py's writer (pure torch: the part that runs without transformers) writes files that
// prefdyn's embeddings reader (contract 3) accepts, F32 and BF16, with the values and rows it was given.
// Skipped where python3 with torch is not installed, except in CI (CI=true) on a machine with apt-get,
// where .ci/run installs Debian's python3-torch and a missing torch is a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { openEmbeddingsFile } from '../src/analysis/embeddings-file.js';

// Debian's python3-torch lives with the system python (as bench/run.mjs); PREFDYN_BENCH_PYTHON overrides.
const python = process.env.PREFDYN_BENCH_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

// 40 rows of d = 3 in groups a and b; value (i*3 + k) % 97 / 8 - 6 is exact in BF16 (at most 7 significant bits).
const N = 40;
const D = 3;
const value = (i: number, k: number) => ((i * D + k) % 97) / 8 - 6;
const WRITE = `
import sys, torch
sys.path.insert(0, sys.argv[1])
import embed_hf
n, d = ${N}, ${D}
x = torch.tensor([[((i * d + k) % 97) / 8 - 6 for k in range(d)] for i in range(n)], dtype=torch.float32)
rows = [{"id": f"p{i}", "group": "ab"[i % 2], "label": 1 if (i // 2) % 2 == 0 else -1} for i in range(n)]
embed_hf.write_embeddings(sys.argv[2], x, rows, sys.argv[3], {"position": "prompt", "model": "m"})
`;

const hasAptGet = ['/usr/bin/apt-get', '/bin/apt-get'].some((p) => fs.existsSync(p));
if (!hasTorch && process.env.CI === 'true' && hasAptGet)
  test('CI with apt-get must run the embed_hf.py writer test', () =>
    assert.fail(`${python} has no torch; .ci/run installs python3-torch`));

test(
  "embed_hf.py's writer output is read by prefdyn analyze, F32 and BF16",
  { skip: hasTorch ? false : `${python} with torch unavailable` },
  () => {
    const dir = tempDir('prefdyn-embed-hf-');
    for (const dtype of ['F32', 'BF16']) {
      const name = path.join(dir, `emb-${dtype}`);
      const r = spawnSync(python, ['-c', WRITE, path.join(repoRoot, 'scripts'), name, dtype], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const src = openEmbeddingsFile(name);
      assert.equal(src.d, D);
      assert.deepEqual(src.groups, ['a', 'b']);
      assert.deepEqual(src.rows[3], { id: 'p3', group: 'b', label: -1 });
      assert.deepEqual(src.rows[5], { id: 'p5', group: 'b', label: 1 });
      const a = src.readGroup('a');
      assert.deepEqual([...a.x], Array.from({ length: N / 2 }, (_, r) => [0, 1, 2].map((k) => value(2 * r, k))).flat());
      src.close();
      const res = runCli(['analyze', '--embeddings', name, '--bootstrap', '10']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /2 groups, 40 rows, d = 3/);
    }
  },
);
