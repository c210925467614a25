// The commands on a model with a SentencePiece tokenizer (Llama-2 / Mistral behaviour, helpers/
// synthetic-tokenizers.ts): `model info` shows the answers in context, scoring uses them, --tokenize
// separate brings back each response tokenised alone, and the theory's setting warns about it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { sentencePieceTokenizer } from './helpers/synthetic-tokenizers.js';

const tmp = tempDir('prefdyn-tokenize-');
const tokDir = path.join(tmp, 'tokenizer');
sentencePieceTokenizer(tokDir);
const model = path.join(tmp, 'model');
initTinyLlama(model, 3, tokDir);
const data = path.join(tmp, 'yes-no.jsonl');
fs.writeFileSync(
  data,
  Array.from({ length: 8 }, (_, i) => {
    const [chosen, rejected] = i % 2 === 0 ? [' Yes', ' No'] : [' No', ' Yes'];
    return JSON.stringify({ prompt: `Is ${'abcdefgh'[i]} it?\n`, chosen, rejected, group: i < 4 ? 'a' : 'b' }) + '\n';
  }).join(''),
);

test('model info: " Yes" / " No" in context, and alone; no warning when each is one token in context', () => {
  const r = runCli(['model', 'info', model]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^answers +in context: " Yes" = 314 \(alone 259, 314\), " No" = 316 \(alone 259, 316\)$/m);
  const json = JSON.parse(runCli(['model', 'info', model, '--json']).stdout);
  assert.equal(json.tokenizer.yes_id, 314);
  assert.equal(json.tokenizer.no_id, 316);
});

test('logprobs scores one token per answer in context; --tokenize separate scores "▁" + answer + EOS', () => {
  const counts = (tokenize: string) => {
    const out = path.join(tmp, `lp-${tokenize}.jsonl`);
    const r = runCli(['logprobs', '--model', model, '--data', data, '--out', out, '--tokenize', tokenize]);
    assert.equal(r.code, 0, r.stderr);
    return fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).n_tokens_chosen);
  };
  assert.deepEqual(counts('in-context'), Array(8).fill(1));
  assert.deepEqual(counts('separate'), Array(8).fill(3));
  const bad = runCli([
    'logprobs',
    '--model',
    model,
    '--data',
    data,
    '--out',
    path.join(tmp, 'x.jsonl'),
    '--tokenize',
    'joint',
  ]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'prefdyn: --tokenize must be one of in-context, separate, got "joint"\n');
  // reproduce takes the same option, checked before any work.
  const out = path.join(tmp, 'never');
  const reproduce = runCli(['reproduce', '--model', model, '--out', out, '--tokenize', 'joint']);
  assert.equal(reproduce.stderr, bad.stderr);
  assert.equal(fs.existsSync(out), false);
  // Its runs' notices are not shown, so it warns first when the answers are not one token each.
  const foreign = path.join(tmp, 'foreign');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'mine.txt'), 'x');
  const separate = runCli(['reproduce', '--model', model, '--out', foreign, '--tokenize', 'separate']);
  assert.equal(separate.code, 1);
  assert.ok(
    separate.stderr.startsWith(
      `WARNING: " Yes" is 2 tokens and " No" is 2 tokens tokenised alone (--tokenize separate) in ${model}; ` +
        "Persona's Yes/No analysis and --mode last-layer assume one token per answer (theory.md s.2)\n",
    ),
    separate.stderr,
  );
  const inContext = runCli(['reproduce', '--model', model, '--out', foreign]);
  assert.equal(inContext.code, 1);
  assert.match(inContext.stderr, /^prefdyn: --out /);
});

test('train --mode last-layer and analyze --model warn when Yes/No answers are not one token; config.json records --tokenize', () => {
  const warning =
    'prefdyn: WARNING: in 8 of 8 Yes/No pairs an answer is not one token (pair yes-no/0: chosen " Yes" is 3 tokens, 259, 314, 2); ' +
    "theory.md s.2's last-layer setting and its predictions assume one token per answer\n";
  const train = (tokenize: string) => {
    const out = path.join(tmp, `run-${tokenize}`);
    const args = ['--model', model, '--data', data, '--mode', 'last-layer', '--steps', '1', '--batch-size', '4'];
    const r = runCli(['train', ...args, '--test-fraction', '0', '--tokenize', tokenize, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).config.tokenize, tokenize);
    return r.stderr;
  };
  assert.ok(train('separate').includes(warning));
  assert.ok(!train('in-context').includes('WARNING'));
  const analyze = (tokenize: string) =>
    runCli(['analyze', '--model', model, '--data', data, '--bootstrap', '0', '--tokenize', tokenize]);
  for (const run of [1, 2]) {
    const r = analyze('separate');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(warning), `run ${run} (cached the second time): ${r.stderr}`);
  }
  const r = analyze('in-context');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stderr.includes('WARNING'), r.stderr);
});
