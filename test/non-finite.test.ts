// Non-finite values stop every command where they appear, naming the row, and nothing half-done is
// written: a NaN weight in `logprobs`, `embed` and `train`'s cached passes; a NaN or Inf row of an
// embeddings file in `analyze`. analyze's JSON stays readable by `compare` for degenerate groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors } from '../src/model/safetensors.js';
import { checkAnalysisInput } from '../src/analysis/compare-run.js';
import { runCli, fixturesDir } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-non-finite-');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
const model = path.join(tmp, 'nan-model');

/** Sets the first float of tensor `name` (F32) in the safetensors `file` to `value`, in place. */
function poison(file: string, name: string, value: number): void {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.equal(header[name].dtype, 'F32');
  bytes.writeFloatLE(value, 8 + n + header[name].data_offsets[0]);
  fs.writeFileSync(file, bytes);
}

const NOT_FINITE = "the model's weights or activations are not finite";

test('setup: a tiny model with one NaN weight in its final norm', () => {
  initTinyLlama(model);
  poison(path.join(model, 'model.safetensors'), 'model.norm.weight', NaN);
});

test('logprobs with a NaN weight stops naming the pair and writes nothing (it wrote null for every row)', () => {
  const out = path.join(tmp, 'lp.jsonl');
  const r = runCli(['logprobs', '--model', model, '--data', data, '--out', out], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^prefdyn: logp_chosen of pair \\d+ \\("\\w+/\\d+"\\) is NaN: ${NOT_FINITE}\\n$`));
  assert.equal(r.stdout, '');
  assert.equal(fs.existsSync(out), false);
});

test('embed with a NaN weight stops naming the row and writes nothing (it wrote all-NaN rows)', () => {
  const out = path.join(tmp, 'emb');
  const r = runCli(['embed', '--model', model, '--data', data, '--out', out], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `^prefdyn: hidden state of row \\d+ \\("\\w+/\\d+/(chosen|rejected)"\\) is NaN at dimension 0: ${NOT_FINITE}\\n$`,
    ),
  );
  assert.deepEqual(
    fs.readdirSync(tmp).filter((f) => f.startsWith('emb')),
    [],
  );
});

test("train's reference log-probs and hidden states are checked before they are cached", () => {
  for (const [mode, what] of [
    ['lora', 'logp_chosen of pair'],
    ['last-layer', 'hidden state of pair'],
  ] as const) {
    const run = path.join(tmp, `run-${mode}`);
    const r = runCli(
      [
        'train',
        '--model',
        model,
        '--data',
        data,
        '--mode',
        mode,
        '--batch-size',
        '4',
        '--gradient-accumulation-steps',
        '1',
        '--steps',
        '1',
        '--out',
        run,
      ],
      { env },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^prefdyn: ${what} \\d+ \\("\\w+/\\d+"\\) is NaN: ${NOT_FINITE}$`, 'm'));
  }
  for (const purpose of ['ref-logps', 'hidden'])
    assert.equal(fs.existsSync(path.join(env.PREFDYN_CACHE_DIR, purpose)), false, `nothing cached in ${purpose}/`);
});

test('model merge with an infinite adapter weight stops naming the merged tensor and writes no folder', () => {
  const adapter = path.join(tmp, 'adapter');
  fs.cpSync(path.join(fixturesDir, 'parity', 'lora-llama'), adapter, { recursive: true });
  poison(
    path.join(adapter, 'adapter_model.safetensors'),
    'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
    Infinity,
  );
  const base = path.join(fixturesDir, 'parity', 'llama-gqa-tied');
  const out = path.join(tmp, 'merged');
  const r = runCli(['model', 'merge', '--model', base, '--adapter', adapter, '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `^prefdyn: tensor "model\\.layers\\.0\\.self_attn\\.q_proj\\.weight" of the merged model is (-?Infinity|NaN) at index \\d+: ` +
        `${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} or ${adapter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds non-finite weights\\n$`,
    ),
  );
  assert.equal(fs.existsSync(out), false);
});

/** An embeddings file: groups a (gap on axis 0) and b (gap on axis 1), 8 rows each, d = 3; `edit` may change x. */
function embeddings(name: string, edit: (x: Float32Array) => void = () => {}): string {
  const d = 3;
  const rows: { id: string; group: string; label: number }[] = [];
  const x: number[] = [];
  for (let i = 0; i < 16; i++) {
    const group = i < 8 ? 'a' : 'b';
    const label = i % 2 === 0 ? 1 : -1;
    rows.push({ id: `r${i}`, group, label });
    x.push(((i * 7) % 5) / 5, ((i * 3) % 4) / 4, i % 3);
    if (label === 1) x[x.length - 3 + (group === 'a' ? 0 : 1)]! += group === 'a' ? 2 : 1;
  }
  const data = Float32Array.from(x);
  edit(data);
  const base = path.join(tmp, name);
  writeSafetensors(`${base}.safetensors`, [{ name: 'embeddings', shape: [16, d], data }]);
  fs.writeFileSync(`${base}.rows.jsonl`, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  return base;
}

test('analyze refuses a NaN or infinite embeddings row, naming file, row, id and group, and writes no JSON', () => {
  for (const [value, text] of [
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ] as const) {
    const base = embeddings('bad', (x) => (x[12 * 3 + 2] = value));
    const json = path.join(tmp, 'bad.json');
    const r = runCli(['analyze', '--embeddings', base, '--json', json, '--bootstrap', '0']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `prefdyn: ${base}.safetensors: row 12 (id "r12", group "b") is ${text} at dimension 2; analyze needs finite embeddings\n`,
    );
    assert.equal(fs.existsSync(json), false);
  }
});

test('analyze refuses a NaN also in a group it skips for too few rows (no side means read it there)', () => {
  const base = path.join(tmp, 'skipped');
  const rows = [1, 1, -1, -1, -1].map((label, i) => ({ id: `r${i}`, group: i < 4 ? 'a' : 'lonely', label }));
  writeSafetensors(`${base}.safetensors`, [
    { name: 'embeddings', shape: [5, 2], data: Float32Array.of(1, 0, 2, 0, 0, 1, 0, 2, NaN, 0) },
  ]);
  fs.writeFileSync(`${base}.rows.jsonl`, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  const r = runCli(['analyze', '--embeddings', base, '--bootstrap', '0']);
  assert.deepEqual(
    [r.code, r.stderr],
    [
      1,
      `prefdyn: ${base}.safetensors: row 4 (id "r4", group "lonely") is NaN at dimension 0; analyze needs finite embeddings\n`,
    ],
  );
});

test("analyze's JSON with degenerate groups (one side only, one row, identical rows, huge values) is readable by compare", () => {
  const base = embeddings('degenerate', (x) => {
    for (let k = 0; k < 3; k++) x[k] = 3e37; // row 0 (group a, +1): huge but finite
  });
  const more = [
    ...[0, 1, 2].map((i) => ({ id: `pos${i}`, group: 'only-positive', label: 1, x: [i, 1, 0] })),
    { id: 'single', group: 'one-row', label: -1, x: [1, 2, 3] },
    ...[0, 1, 2, 3].map((i) => ({ id: `same${i}`, group: 'identical', label: i % 2 ? 1 : -1, x: [1, 1, 1] })),
  ];
  const tensors = fs.readFileSync(`${base}.safetensors`);
  const n = Number(tensors.readBigUInt64LE(0));
  const old = new Float32Array(tensors.buffer.slice(tensors.byteOffset + 8 + n, tensors.byteOffset + tensors.length));
  const all = Float32Array.from([...old, ...more.flatMap((m) => m.x)]);
  writeSafetensors(`${base}.safetensors`, [{ name: 'embeddings', shape: [all.length / 3, 3], data: all }]);
  fs.appendFileSync(
    `${base}.rows.jsonl`,
    more.map((m) => JSON.stringify({ id: m.id, group: m.group, label: m.label }) + '\n').join(''),
  );
  for (const bootstrap of ['0', '20']) {
    const json = path.join(tmp, `degenerate-${bootstrap}.json`);
    const r = runCli(['analyze', '--embeddings', base, '--json', json, '--bootstrap', bootstrap]);
    assert.equal(r.code, 0, r.stderr);
    const report = checkAnalysisInput(json, JSON.parse(fs.readFileSync(json, 'utf8')));
    for (const g of report.groups) assert.ok(Number.isFinite(g.delta), `${g.group}: delta ${g.delta}`);
    assert.ok(report.gram.dd.flat().every(Number.isFinite), 'gram dd finite');
    assert.ok(report.gram.cc.flat().every(Number.isFinite), 'gram cc finite');
  }
});
