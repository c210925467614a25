// `prefdyn analyze` end to end on a small embeddings file (contract 3) and its bad-input messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../src/util/rng.js';
import { writeSafetensors } from '../src/model/safetensors.js';
import { openEmbeddingsFile } from '../src/analysis/embeddings-file.js';
import { f32ToHalf, halfToF32 } from '../src/tensor/half.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

let dir = '';
const D = 6;

/** Groups a (gap 3 on axis 0), b (gap 1 on axis 1), c (gap 2 on axis 2), rows interleaved across groups. */
function writeEmbeddings(
  name: string,
  rowsOf: (i: number, group: string, label: number) => Record<string, unknown>,
): void {
  const rng = new Rng(4);
  const groups: [string, number][] = [
    ['a', 3],
    ['b', 1],
    ['c', 2],
  ];
  const n = 240;
  const x = new Float32Array(n * D);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = i % 3;
    const [group, gap] = groups[b]!;
    const label = Math.floor(i / 3) % 2 === 0 ? 1 : -1;
    for (let k = 0; k < D; k++) x[i * D + k] = rng.normal() * 0.5 + (label === 1 && k === b ? gap : 0);
    lines.push(JSON.stringify(rowsOf(i, group, label)));
  }
  writeSafetensors(path.join(dir, `${name}.safetensors`), [{ name: 'embeddings', shape: [n, D], data: x }]);
  fs.writeFileSync(path.join(dir, `${name}.rows.jsonl`), lines.join('\n') + '\n');
}

before(() => {
  dir = tempDir('prefdyn-analyze-');
  writeEmbeddings('emb', (i, group, label) => ({
    id: `r${i}`,
    group,
    label,
    prompt: i === 0 || i === 4 ? 'Is the sky blue?\n' : `q${i}`,
  }));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('analyze ranks the groups by distinguishability and writes contract 5 JSON', () => {
  const json = path.join(dir, 'a.json');
  const res = runCli(['analyze', '--embeddings', path.join(dir, 'emb'), '--bootstrap', '40', '--json', json]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /3 groups, 240 rows, d = 6/);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.deepEqual(
    report.groups.map((g: { group: string }) => g.group),
    ['a', 'c', 'b'],
  );
  for (const key of [
    'group',
    'n_pos',
    'n_neg',
    'delta',
    'concentration',
    'trace',
    'fisher',
    'tail_alpha',
    'margin_velocity',
    'rank_ci',
  ]) {
    assert.ok(key in report.groups[0], key);
  }
  assert.deepEqual(report.priority.groups, ['a', 'b', 'c']);
  assert.ok(report.priority.gap[0][1] > 0 && report.priority.gap[1][0] < 0);
  // Row 0 (group a) and row 4 (group b) share a prompt.
  const dup = report.warnings.find((w: { kind: string }) => w.kind === 'near-duplicates');
  assert.deepEqual(dup.groups, ['a', 'b']);
  // Table rows in rank order.
  const lines = res.stdout.split('\n');
  const rankLines = ['a', 'c', 'b'].map((g) => lines.findIndex((l) => new RegExp(`^\\s*\\d+~?\\s+${g}\\s`).test(l)));
  assert.ok(rankLines[0]! > 0 && rankLines[0]! < rankLines[1]! && rankLines[1]! < rankLines[2]!, res.stdout);
});

test('analyze --mix restricts the shared update; an unknown group is a one-line error with exit 1', () => {
  const json = path.join(dir, 'mix.json');
  const ok = runCli([
    'analyze',
    '--embeddings',
    path.join(dir, 'emb'),
    '--mix',
    'b,c',
    '--bootstrap',
    '0',
    '--json',
    json,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  const a = report.groups.find((g: { group: string }) => g.group === 'a');
  assert.equal(a.in_mix, false);
  assert.equal(a.mix_weight, 0);
  const bad = runCli(['analyze', '--embeddings', path.join(dir, 'emb'), '--mix', 'b,zzz']);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'prefdyn: --mix names 1 group(s) not in the data: zzz (the data has 3 groups, e.g. a, b, c)\n',
  );
});

test('analyze rejects a bad label with the file and line, and a row-count mismatch', () => {
  writeEmbeddings('badlabel', (i, group, label) => ({ id: i, group, label: i === 7 ? 0 : label }));
  const res = runCli(['analyze', '--embeddings', path.join(dir, 'badlabel')]);
  assert.equal(res.code, 1);
  assert.equal(res.stderr, `prefdyn: ${path.join(dir, 'badlabel.rows.jsonl')}:8: "label" must be 1 or -1, got 0\n`);

  writeEmbeddings('short', (i, group, label) => ({ id: i, group, label }));
  const rowsFile = path.join(dir, 'short.rows.jsonl');
  fs.writeFileSync(rowsFile, fs.readFileSync(rowsFile, 'utf8').split('\n').slice(0, 10).join('\n'));
  const short = runCli(['analyze', '--embeddings', path.join(dir, 'short')]);
  assert.equal(short.code, 1);
  assert.equal(
    short.stderr,
    `prefdyn: ${path.join(dir, 'short.safetensors')}: tensor "embeddings" has 240 rows but ${rowsFile} has 10 lines; they must match row for row\n`,
  );

  const missing = runCli(['analyze']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^prefdyn: analyze needs --embeddings NAME/);
});

test('analyze --embeddings reads F16 and BF16 files as the F32 file of the same (rounded) values; other dtypes are refused', () => {
  const src = openEmbeddingsFile(path.join(dir, 'emb'));
  const rows = fs.readFileSync(path.join(dir, 'emb.rows.jsonl'));
  const x = new Float32Array(src.rows.length * D);
  const order = src.groups.map((g) => ({ g, idx: src.rows.flatMap((r, i) => (r.group === g ? [i] : [])) }));
  for (const { g, idx } of order) {
    const got = src.readGroup(g).x;
    idx.forEach((i, r) => x.set(got.subarray(r * D, (r + 1) * D), i * D));
  }
  src.close();
  const shape = [src.rows.length, D];
  for (const dtype of ['F16', 'BF16'] as const) {
    const rounded = halfToF32(f32ToHalf(dtype, x));
    writeSafetensors(path.join(dir, `h-${dtype}.safetensors`), [{ name: 'embeddings', shape, data: x, dtype }]);
    writeSafetensors(path.join(dir, `r-${dtype}.safetensors`), [{ name: 'embeddings', shape, data: rounded }]);
    for (const name of [`h-${dtype}`, `r-${dtype}`]) fs.writeFileSync(path.join(dir, `${name}.rows.jsonl`), rows);
    const half = openEmbeddingsFile(path.join(dir, `h-${dtype}`));
    for (const g of half.groups) {
      const got = half.readGroup(g).x;
      const idx = order.find((o) => o.g === g)!.idx;
      idx.forEach((i, r) => assert.deepEqual(got.subarray(r * D, (r + 1) * D), rounded.subarray(i * D, (i + 1) * D)));
    }
    half.close();
    const json = (name: string) => {
      const out = path.join(dir, `${name}.json`);
      const res = runCli(['analyze', '--embeddings', path.join(dir, name), '--bootstrap', '20', '--json', out]);
      assert.equal(res.code, 0, res.stderr);
      const report = JSON.parse(fs.readFileSync(out, 'utf8'));
      delete report.source.embeddings; // the file's name
      return report;
    };
    assert.deepEqual(json(`h-${dtype}`), json(`r-${dtype}`), `${dtype}: the same analysis as the F32 file`);
  }
  const file = path.join(dir, 'ints.safetensors');
  const header = JSON.stringify({ embeddings: { dtype: 'I32', shape: [1, 1], data_offsets: [0, 4] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(header), Buffer.alloc(4)]));
  fs.writeFileSync(path.join(dir, 'ints.rows.jsonl'), '{"id": "x", "group": "g", "label": 1}\n');
  const bad = runCli(['analyze', '--embeddings', path.join(dir, 'ints')]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, `prefdyn: ${file}: tensor "embeddings" has dtype I32; expected F32 (or F16, BF16)\n`);
});
