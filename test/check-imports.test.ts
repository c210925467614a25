// scripts/check-imports.mjs (part of `npm run lint`): upward imports and circles, type-only ones included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-imports-');

function check(files: Record<string, string>): { code: number | null; lines: string[] } {
  const src = fs.mkdtempSync(path.join(tmp, 'src-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, name)), { recursive: true });
    fs.writeFileSync(path.join(src, name), text);
  }
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'check-imports.mjs'), src], {
    encoding: 'utf8',
  });
  return { code: r.status, lines: r.stderr.trim().split('\n').filter(Boolean) };
}

test('imports down the layer list and within a folder pass', () => {
  const r = check({
    'cli/main.ts': "import { run } from '../report/table.js';\nexport const x = run;\n",
    'report/table.ts': "import { a } from '../util/a.js';\nimport type { B } from './b.js';\nexport const run = a;\n",
    'report/b.ts': 'export interface B { n: number }\n',
    'util/a.ts': "// import { nothing } from '../cli/main.js' (a comment, not an import)\nexport const a = 1;\n",
  });
  assert.deepEqual(r, { code: 0, lines: [] });
});

test('an upward import, a type-only circle and a file outside the layers each fail with one line', () => {
  const r = check({
    'util/a.ts': "import { b } from '../data/b.js';\nexport const a = b;\n",
    'data/b.ts': 'export const b = 1;\n',
    'analysis/analyze.ts': "import type { W } from './warnings.js';\nexport interface G { w?: W }\n",
    'analysis/warnings.ts': "import type {\n  G,\n} from './analyze.js';\nexport interface W { g?: G }\n",
    'stray.ts': 'export {};\n',
  });
  assert.equal(r.code, 1);
  assert.deepEqual(r.lines.sort(), [
    'check-imports: import circle: analysis/analyze.ts -> analysis/warnings.ts -> analysis/analyze.ts',
    'check-imports: stray.ts: not inside a layer folder (cli, server, report, experiments, pretrain, analysis, train, model, tensor, tokenizer, data, util)',
    'check-imports: util/a.ts: imports data/b.ts, which is up the layer list (util is below data)',
  ]);
});
