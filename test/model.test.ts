// `prefdyn model init`, `embed` and `logprobs` end to end on persona data, and the initialisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, runCli } from './helpers/cli.js';
import { SafetensorsFile } from '../src/model/safetensors.js';
import { loadModel } from '../src/model/load.js';
import { lastTokenHidden } from '../src/model/embed.js';
import { initConfig, initWeights, parseSizeSpec } from '../src/model/init.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { loadSource } from '../src/data/source.js';
import { relativeError } from './helpers/parity.js';
import { tempDir } from './helpers/temp.js';

const smallTokenizer = path.join(fixturesDir, 'tokenizers', 'gpt2-small');

function readJsonl(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('model init + embed + logprobs run end to end on persona:agreeableness', async () => {
  const tmp = tempDir('prefdyn-e2e-');
  const model = path.join(tmp, 'tiny');
  const init = runCli([
    'model',
    'init',
    '--arch',
    'llama',
    '--size',
    'd=32,layers=1,heads=4,kv=2,ctx=256',
    '--out',
    model,
    '--seed',
    '3',
    '--tokenizer',
    smallTokenizer,
  ]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(
    init.stdout,
    `wrote llama model (d=32, layers=1, heads=4, kv=2, vocab=1025, 45,184 parameters, seed 3) to ${model}\n`,
  );
  assert.deepEqual(fs.readdirSync(model).sort(), [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);

  const name = path.join(tmp, 'agree');
  const embedAgreeableness = (out: string, ...more: string[]) =>
    runCli(['embed', '--model', model, '--data', 'persona:agreeableness', '--out', out, '--batch-size', '64', ...more]);
  const embed = embedAgreeableness(name);
  assert.equal(embed.code, 0, embed.stderr);
  assert.equal(
    embed.stdout,
    `wrote 1000 embeddings [1000, 32] (at --position newline) to ${name}.safetensors and ${name}.rows.jsonl\n`,
  );
  const st = SafetensorsFile.open(`${name}.safetensors`);
  assert.equal(st.metadata.embedding_position, 'newline');
  assert.equal(st.metadata.position, 'prompt');
  assert.deepEqual(st.names(), ['embeddings']);
  assert.deepEqual(st.info('embeddings').shape, [1000, 32]);
  assert.equal(st.info('embeddings').dtype, 'F32');
  const emb = st.readF32('embeddings');
  st.close();
  const rows = readJsonl(`${name}.rows.jsonl`);
  assert.equal(rows.length, 1000);
  assert.deepEqual(rows[0], { id: 'agreeableness/0', group: 'agreeableness', label: 1 });
  assert.equal(rows.filter((r) => r.label === 1).length, 500); // persona is balanced within a behaviour

  // the last row is g(x) at the last token of its prompt, computed alone (no padding, no batch)
  const m = await loadModel(model);
  const tok = loadTokenizer(model);
  const { pairs } = await loadSource('persona:agreeableness', {});
  const direct = lastTokenHidden(m, [tok.encode(pairs[999]!.prompt, true)], 1);
  assert.equal(direct.d, 32);
  assert.ok(relativeError(emb.subarray(999 * 32), direct.data) < 1e-5);

  // --position question: g(x) at the last token of the bare question (persona: its closing quote, before "\n")
  const bare = pairs[999]!.prompt.slice(0, -1);
  assert.ok(pairs[999]!.prompt.endsWith('\n') && bare.endsWith('"'), JSON.stringify(pairs[999]!.prompt.slice(-20)));
  const qName = path.join(tmp, 'agree-question');
  const q = embedAgreeableness(qName, '--position', 'question');
  assert.equal(q.code, 0, q.stderr);
  const qst = SafetensorsFile.open(`${qName}.safetensors`);
  const qEmb = qst.readF32('embeddings');
  assert.equal(qst.metadata.embedding_position, 'question');
  assert.match(qst.metadata.embedding_position_definition!, /bare question/);
  qst.close();
  assert.deepEqual(readJsonl(`${qName}.rows.jsonl`), rows);
  const atQuestion = lastTokenHidden(m, [tok.encode(bare, true)], 1);
  assert.ok(relativeError(qEmb.subarray(999 * 32), atQuestion.data) < 1e-5);
  assert.ok(relativeError(qEmb.subarray(999 * 32), direct.data) > 1e-2, 'question and newline rows differ');
  const json = path.join(tmp, 'a.json');
  const a = runCli(['analyze', '--embeddings', qName, '--bootstrap', '0', '--json', json]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).settings.embedding_position, 'question');
  const both = runCli(['analyze', '--embeddings', qName, '--position', 'newline']);
  assert.deepEqual(
    [both.code, both.stderr],
    [2, 'prefdyn: --position chooses where --model embeds; an embeddings file already has its position\n'],
  );

  const out = path.join(tmp, 'lp.jsonl');
  const lp = runCli([
    'logprobs',
    '--model',
    model,
    '--data',
    'persona:agreeableness',
    '--out',
    out,
    '--batch-size',
    '64',
  ]);
  assert.equal(lp.code, 0, lp.stderr);
  const scores = readJsonl(out);
  assert.equal(scores.length, 1000);
  for (const s of scores) {
    assert.ok(Number.isFinite(s.logp_chosen) && (s.logp_chosen as number) < 0);
    assert.ok(Number.isFinite(s.logp_rejected) && (s.logp_rejected as number) < 0);
  }
});

test('model init: the same seed writes the same weights; another seed does not', () => {
  const tmp = tempDir('prefdyn-init-');
  const make = (dir: string, seed: string) => {
    const r = runCli([
      'model',
      'init',
      '--arch',
      'gpt2',
      '--size',
      'd=16,layers=1,heads=2,ctx=32',
      '--out',
      path.join(tmp, dir),
      '--seed',
      seed,
      '--tokenizer',
      smallTokenizer,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return fs.readFileSync(path.join(tmp, dir, 'model.safetensors'));
  };
  const a = make('a', '5');
  assert.deepEqual(make('b', '5'), a);
  assert.notDeepEqual(make('c', '6'), a);
  const config = JSON.parse(fs.readFileSync(path.join(tmp, 'a', 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'gpt2');
  assert.equal(config.n_embd, 16);
  assert.equal(config.vocab_size, 1025);
  assert.equal(config.eos_token_id, 1024);
});

test('init: weights follow Hugging Face initialisation (normal(0, 0.02), norms 1, biases 0, GPT-2 c_proj scaled)', () => {
  const cfg = initConfig('gpt2', parseSizeSpec('d=64,layers=2,heads=4,vocab=1000', 'gpt2'), 1000);
  const w = initWeights(cfg, 0);
  const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  assert.ok(Math.abs(std(w.get('wte.weight')!.data) - 0.02) < 0.001);
  assert.ok(Math.abs(std(w.get('h.0.mlp.c_proj.weight')!.data) - 0.02 / Math.sqrt(4)) < 0.001);
  assert.ok(w.get('h.1.ln_2.weight')!.data.every((v) => v === 1));
  assert.ok(w.get('h.1.attn.c_attn.bias')!.data.every((v) => v === 0));
  const llama = initConfig('llama', parseSizeSpec('tiny,vocab=500', 'llama'), 500);
  assert.equal(llama.arch === 'llama' && llama.numKeyValueHeads, 2);
  assert.equal(llama.intermediateSize, 176); // 8d/3 rounded up to a multiple of 16
  assert.ok(
    initWeights(llama, 0)
      .get('model.norm.weight')!
      .data.every((v) => v === 1),
  );
});

test('model init: bad options are refused with a message', () => {
  const tmp = tempDir('prefdyn-init-bad-');
  const out = path.join(tmp, 'm');
  const cases: [string[], number, string][] = [
    [
      ['--arch', 'bert', '--out', out],
      1,
      'prefdyn: --arch must be one of llama, mistral, qwen2, qwen3, gpt2, got "bert"\n',
    ],
    [
      ['--arch', 'llama', '--size', 'd=64,layers=2', '--out', out, '--tokenizer', smallTokenizer],
      1,
      'prefdyn: --size "d=64,layers=2": heads is missing (e.g. "d=64,layers=2,heads=4" or a preset: tiny, small)\n',
    ],
    [
      ['--arch', 'llama', '--size', 'huge', '--out', out, '--tokenizer', smallTokenizer],
      1,
      'prefdyn: --size: "huge" is not a preset (tiny, small) or KEY=VALUE with KEY one of d, layers, heads, kv, ffn, vocab, ctx, theta, tied, window\n',
    ],
    [
      ['--arch', 'gpt2', '--size', 'tiny,kv=2', '--out', out, '--tokenizer', smallTokenizer],
      1,
      'prefdyn: --size: kv, theta and tied=false are Llama options; GPT-2 has neither grouped-query attention nor RoPE, and ties lm_head\n',
    ],
    [
      ['--arch', 'llama', '--size', 'tiny,vocab=100', '--out', out, '--tokenizer', smallTokenizer],
      1,
      `prefdyn: --size vocab=100 is smaller than the tokenizer's 1025 tokens (${path.join(smallTokenizer, 'tokenizer.json')})\n`,
    ],
    [
      ['--arch', 'llama', '--size', 'd=30,layers=1,heads=4', '--out', out, '--tokenizer', smallTokenizer],
      1,
      'prefdyn: --size: hidden size 30 is not divisible by the 4 attention heads\n',
    ],
  ];
  for (const [args, code, stderr] of cases) {
    const r = runCli(['model', 'init', ...args]);
    assert.equal(r.stderr, stderr, args.join(' '));
    assert.equal(r.code, code);
  }
  assert.equal(fs.existsSync(out), false);
});

test('embed: free-text pairs are embedded at prompt + response, two rows per pair', () => {
  const tmp = tempDir('prefdyn-embed-');
  const model = path.join(fixturesDir, 'parity', 'gpt2');
  const data = path.join(fixturesDir, 'parity', 'logprobs', 'pairs.jsonl');
  const r = runCli(['embed', '--model', model, '--data', data, '--out', path.join(tmp, 'e')]);
  assert.equal(r.code, 0, r.stderr);
  const rows = readJsonl(path.join(tmp, 'e.rows.jsonl'));
  assert.deepEqual(rows.slice(0, 2), [
    { id: 'yes-1/chosen', group: 'persona-like', label: 1 },
    { id: 'yes-1/rejected', group: 'persona-like', label: -1 },
  ]);
  assert.equal(rows.length, 12);
  const bad = runCli(['embed', '--model', model, '--data', data, '--out', path.join(tmp, 'f'), '--position', 'prompt']);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'prefdyn: pair free-1: no Yes/No label, so its prompt embedding has no side; use --position response (embeds prompt + chosen and prompt + rejected)\n',
  );
  assert.equal(fs.existsSync(path.join(tmp, 'f.safetensors')), false);
});

test('embed --out creates missing folders, and refuses a path through a file before any work', () => {
  const tmp = tempDir('prefdyn-embed-out-');
  const model = path.join(fixturesDir, 'parity', 'gpt2');
  const data = path.join(fixturesDir, 'parity', 'logprobs', 'pairs.jsonl');
  const out = path.join(tmp, 'new', 'dir', 'name');
  const r = runCli(['embed', '--model', model, '--data', data, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(path.dirname(out)).sort(), ['name.rows.jsonl', 'name.safetensors']);
  assert.equal(readJsonl(`${out}.rows.jsonl`).length, 12);
  const file = path.join(tmp, 'a-file');
  fs.writeFileSync(file, 'x');
  const bad = runCli(['embed', '--model', model, '--data', data, '--out', path.join(file, 'name')]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, `prefdyn: --out ${path.join(file, 'name.safetensors')}: ${file} is a file, not a folder\n`);
});
