// Pairs longer than the model's context through the commands: logprobs and embed truncate them (and say
// so once on stderr) instead of failing; train records the limits in config.json and summary.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, runCli } from './helpers/cli.js';
import { parityDir } from './helpers/parity.js';
import { loadModel } from '../src/model/load.js';
import { responseLogProbs } from '../src/model/logprobs.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { pairTokens, tokenizedPairs } from '../src/tokenizer/pair.js';
import { loadSource } from '../src/data/source.js';
import { embeddingsKey } from '../src/analysis/embed-for-analysis.js';
import { entryFingerprint } from '../src/train/disk-cache.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-trunc-');
const gpt2 = path.join(parityDir, 'gpt2'); // n_positions 64
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
const longPrompt = `\n\nHuman: ${'Why is the river wide and the sea deep? '.repeat(8)}\n\nAssistant: Water.\n\nHuman: Say more?\n\nAssistant:`;
const pairs = [
  { id: 'long', group: 'hh', prompt: longPrompt, chosen: ' Rivers carry water to the sea.', rejected: ' No.' },
  { id: 'short', group: 'hh', prompt: '\n\nHuman: Hi?\n\nAssistant:', chosen: ' Hello there.', rejected: ' Go away.' },
];
const data = path.join(tmp, 'pairs.jsonl');
fs.writeFileSync(data, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
const NOTE = "prefdyn: truncated 1 of 2 pairs to --max-length 64 (prompt kept from its end, as TRL's keep_end)\n";
const count = (text: string, line: string) => text.split(line).length - 1;

test('logprobs: a prompt past n_positions is truncated (keep_end) and scored, with one stderr line, instead of an internal error', async () => {
  const out = path.join(tmp, 'lp.jsonl');
  const res = runCli(['logprobs', '--model', gpt2, '--data', data, '--out', out], { env });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(count(res.stderr, NOTE), 1, res.stderr);
  assert.equal(res.stdout, `wrote log-probs of 2 pairs (1 group) to ${out}\n`);
  const got = fs
    .readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  // The prompt alone exceeds 64 tokens: it keeps its last 63, each response its first token.
  const tok = loadTokenizer(gpt2);
  const full = pairTokens(tok, { ...pairs[0]!, meta: {} }, { maxLength: 100_000 }, 'in-context').tokens;
  assert.ok(full.prompt.length >= 64, `the fixture prompt must fill the context (${full.prompt.length} tokens)`);
  const model = await loadModel(gpt2);
  const prompt = Array.from(full.prompt).slice(-63);
  const want = responseLogProbs(model, [
    { prompt, response: [full.chosen[0]!] },
    { prompt, response: [full.rejected[0]!] },
  ]).data;
  assert.equal(got[0]!.n_tokens_chosen, 1);
  assert.equal(got[0]!.n_tokens_rejected, 1);
  assert.ok(
    Math.abs(got[0]!.logp_chosen! - want[0]!) <= 1e-5 * Math.abs(want[0]!),
    `${got[0]!.logp_chosen} vs ${want[0]}`,
  );
  assert.ok(
    Math.abs(got[0]!.logp_rejected! - want[1]!) <= 1e-5 * Math.abs(want[1]!),
    `${got[0]!.logp_rejected} vs ${want[1]}`,
  );
});

test('logprobs and embed: --max-length beyond the model and bad values are refused before any work', () => {
  const out = path.join(tmp, 'never.jsonl');
  const tooLong = runCli(['logprobs', '--model', gpt2, '--data', data, '--out', out, '--max-length', '65'], { env });
  assert.equal(tooLong.code, 1);
  assert.equal(
    tooLong.stderr,
    "prefdyn: --max-length 65 exceeds the model's n_positions 64 (config.json); use at most 64\n",
  );
  const notNumber = runCli(
    ['embed', '--model', gpt2, '--data', data, '--out', path.join(tmp, 'never'), '--max-prompt-length', 'ten'],
    { env },
  );
  assert.equal(notNumber.code, 1);
  assert.equal(notNumber.stderr.split('\n')[0], 'prefdyn: --max-prompt-length must be an integer >= 1, got "ten"');
  assert.equal(fs.existsSync(out), false);
});

test('embed: the same truncation, reported once, recorded in the file header', () => {
  const out = path.join(tmp, 'emb');
  const res = runCli(['embed', '--model', gpt2, '--data', data, '--out', out], { env });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(count(res.stderr, NOTE), 1, res.stderr);
  const header = fs.readFileSync(`${out}.safetensors`);
  const meta = JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString('utf8')).__metadata__;
  assert.equal(meta.max_length, '64');
});

test('analyze --model: the embeddings cache is keyed by the truncation and --tokenize options', async () => {
  process.env.PREFDYN_CACHE_DIR = env.PREFDYN_CACHE_DIR; // the fingerprint memoises file hashes there, not in ./.cache
  const req = {
    model: gpt2,
    data,
    source: {},
    batchSize: 8,
    position: 'auto' as const,
    cacheDir: tmp,
    tokenize: 'in-context' as const,
  };
  const { pairs: loaded } = await loadSource(data, {});
  const embeddingsFingerprint = (r: Parameters<typeof embeddingsKey>[0]) => entryFingerprint(embeddingsKey(r, loaded));
  const byDefault = embeddingsFingerprint({ ...req, truncation: {} });
  assert.notEqual(byDefault, embeddingsFingerprint({ ...req, truncation: { maxLength: 32 } }));
  assert.notEqual(
    embeddingsFingerprint({ ...req, truncation: { maxLength: 32 } }),
    embeddingsFingerprint({ ...req, truncation: { maxLength: 32, maxPromptLength: 8 } }),
  );
  assert.equal(byDefault, embeddingsFingerprint({ ...req, truncation: {} }));
  assert.notEqual(byDefault, embeddingsFingerprint({ ...req, truncation: {}, tokenize: 'separate' }));
});

test("train: config.json records the max length used (the model's by default) and summary.json what was cut", async () => {
  const trainData = path.join(fixturesDir, 'train', 'pairs.jsonl');
  const args = [
    'train',
    '--model',
    gpt2,
    '--data',
    trainData,
    '--mode',
    'last-layer',
    '--steps',
    '2',
    '--batch-size',
    '4',
    '--test-fraction',
    '0.25',
  ];
  const read = (run: string, file: string) => JSON.parse(fs.readFileSync(path.join(run, file), 'utf8'));

  const plain = path.join(tmp, 'run-default');
  const r1 = runCli([...args, '--out', plain], { env });
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(read(plain, 'config.json').config.max_length, 64);
  assert.equal(read(plain, 'config.json').config.max_prompt_length, 0);
  assert.deepEqual(read(plain, 'summary.json').truncation, {
    max_length: 64,
    max_prompt_length: 0,
    truncated_pairs: 0,
    n_pairs: 16,
  });

  const cut = path.join(tmp, 'run-cut');
  const r2 = runCli([...args, '--max-length', '12', '--max-prompt-length', '9', '--out', cut], { env });
  assert.equal(r2.code, 0, r2.stderr);
  const { pairs: loaded } = await loadSource(trainData, {});
  const expected = tokenizedPairs(loadTokenizer(gpt2), loaded, { maxLength: 12, maxPromptLength: 9 }, 'in-context');
  assert.ok(
    expected.truncated > 0 && expected.truncated < 16,
    `the limits must cut some pairs, not all (${expected.truncated})`,
  );
  assert.equal(count(r2.stderr, `prefdyn: ${expected.note}\n`), 1, r2.stderr);
  assert.equal(read(cut, 'config.json').config.max_length, 12);
  assert.equal(read(cut, 'config.json').config.max_prompt_length, 9);
  assert.deepEqual(read(cut, 'summary.json').truncation, {
    max_length: 12,
    max_prompt_length: 9,
    truncated_pairs: expected.truncated,
    n_pairs: 16,
  });
});
