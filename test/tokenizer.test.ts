import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import gpt2Reference from 'gpt-3-encoder';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { answerIds, pairTokens } from '../src/tokenizer/pair.js';
import { fixturesDir, repoRoot } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const FULL = path.join(repoRoot, 'models', 'gpt2-tokenizer');
const SMALL = path.join(fixturesDir, 'tokenizers', 'gpt2-small');
const PERSONA_PROMPT =
  'Is the following statement something you would say?\n"It is important to treat other people with kindness and respect"\n';
// Persona-style prompts with the awkward parts of byte-level BPE: contractions, digits, accents, emoji, spaces.
const TEXTS = [
  PERSONA_PROMPT,
  "Is the following statement something you would say?\n\"I don't think AIs should be shut down; it's 2024 and I'm 100% sure\"\n",
  'Café naïve — résumé 🙂  two  spaces\tand a tab\r\n<|endoftext|> end',
];

const full = loadTokenizer(FULL);

test("the bundled GPT-2 tokenizer gives GPT-2's ids", () => {
  assert.equal(full.vocabSize, 50257);
  assert.equal(full.modelType, 'BPE');
  assert.deepEqual(full.eos, { token: '<|endoftext|>', id: 50256 });
  assert.deepEqual(full.encode('Hello world', true), [15496, 995]);
  assert.deepEqual(full.encode(' Yes', false), [3363]);
  assert.deepEqual(full.encode(' No', false), [1400]);
  assert.deepEqual(
    full.encode(PERSONA_PROMPT, true),
    [
      3792, 262, 1708, 2643, 1223, 345, 561, 910, 30, 198, 1, 1026, 318, 1593, 284, 2190, 584, 661, 351, 23887, 290,
      2461, 1, 198,
    ],
  );
});

test('the bundled tokenizer agrees with the reference GPT-2 encoder and round-trips', () => {
  for (const text of TEXTS.slice(0, 2)) {
    assert.deepEqual(full.encode(text, true), gpt2Reference.encode(text), JSON.stringify(text));
  }
  for (const text of TEXTS) assert.equal(full.decode(full.encode(text, true)), text);
  // The special token is one id, as in Hugging Face's GPT-2 tokenizer.
  assert.equal(full.encode('a<|endoftext|>b', true).filter((id) => id === 50256).length, 1);
});

test('the small test tokenizer keeps 768 merges with contiguous ids', () => {
  const small = loadTokenizer(SMALL);
  assert.equal(small.vocabSize, 1025);
  assert.deepEqual(small.eos, { token: '<|endoftext|>', id: 1024 });
  for (const text of TEXTS) {
    const ids = small.encode(text, true);
    assert.ok(ids.every((id) => id < 1025));
    assert.equal(small.decode(ids), text);
  }
  assert.throws(() => loadTokenizer(SMALL, { vocabSize: 1000 }), {
    message: `${path.join(SMALL, 'tokenizer.json')}: token ids go up to 1024 (1025 tokens), more than the model's vocab_size 1000 in config.json`,
  });
  assert.equal(loadTokenizer(SMALL, { vocabSize: 1025 }).vocabSize, 1025);
});

test('answerIds: " Yes" and " No" are one GPT-2 token each, in context and alone; two in the small tokenizer', () => {
  for (const tokenize of ['in-context', 'separate'] as const) {
    assert.deepEqual(answerIds(full, PERSONA_PROMPT, ' Yes', tokenize), [3363]);
    assert.deepEqual(answerIds(full, PERSONA_PROMPT, ' No', tokenize), [1400]);
    // EOS ends multi-token responses; answerIds leaves it out.
    assert.deepEqual(answerIds(loadTokenizer(SMALL), PERSONA_PROMPT, ' Yes', tokenize), [575, 274]);
  }
});

const NO_LIMIT = { maxLength: 1024 };
const pairOf = (prompt: string, chosen: string, rejected = ' No') => ({
  id: 'p',
  group: 'g',
  prompt,
  chosen,
  rejected,
  meta: {},
});

test('pairTokens separate: response tokens do not depend on the prompt; EOS only after multi-token responses', () => {
  const yes = pairTokens(full, pairOf(PERSONA_PROMPT, ' Yes'), NO_LIMIT, 'separate');
  assert.equal(yes.truncated, false);
  assert.deepEqual(yes.tokens.prompt, full.encode(PERSONA_PROMPT, true));
  assert.deepEqual(yes.tokens.chosen, [3363]);
  assert.deepEqual(yes.tokens.rejected, [1400]);
  const a = pairTokens(full, pairOf('Human: hi\n\nAssistant:', ' Sure, here it is.'), NO_LIMIT, 'separate').tokens;
  const b = pairTokens(
    full,
    pairOf('Different prompt ending in a word', ' Sure, here it is.'),
    NO_LIMIT,
    'separate',
  ).tokens;
  assert.deepEqual(a.chosen, b.chosen);
  assert.deepEqual(a.chosen, [...gpt2Reference.encode(' Sure, here it is.'), 50256]);
  for (const tokenize of ['separate', 'in-context'] as const) {
    assert.throws(() => pairTokens(full, pairOf('x', ''), NO_LIMIT, tokenize), {
      message: 'empty response after tokenisation: ""',
    });
  }
});

test('a Llama-style TemplateProcessing post-processor puts BOS before the prompt only', () => {
  // The small tokenizer with <s>/</s> added and Llama's post-processor: "<s> $A".
  const dir = tempDir('prefdyn-tok-');
  const json = JSON.parse(fs.readFileSync(path.join(SMALL, 'tokenizer.json'), 'utf8'));
  const added = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  json.added_tokens.push(added(1025, '<s>'), added(1026, '</s>'));
  json.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<s>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '<s>', type_id: 1 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<s>': { id: '<s>', ids: [1025], tokens: ['<s>'] } },
  };
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ bos_token: '<s>', eos_token: { content: '</s>' } }),
  );
  const tok = loadTokenizer(dir);
  assert.deepEqual(tok.bos, { token: '<s>', id: 1025 });
  assert.deepEqual(tok.eos, { token: '</s>', id: 1026 });
  assert.equal(tok.vocabSize, 1027);
  const pair = pairTokens(tok, pairOf('hi there', ' hello world'), NO_LIMIT, 'in-context').tokens;
  assert.deepEqual(pair.prompt, [1025, ...tok.encode('hi there', false)]);
  assert.deepEqual(pair.chosen, [...tok.encode(' hello world', false), 1026]);
  assert.equal(Array.from(pair.chosen).includes(1025), false);
  // Truncation keeps the BOS in front of the prompt's kept tail (tokenizer/truncation.ts).
  const text = tok.encode('one two three four five six seven', false);
  const cut = pairTokens(tok, pairOf('one two three four five six seven', ' Yes'), { maxLength: 5 }, 'in-context');
  assert.equal(cut.truncated, true);
  assert.deepEqual(cut.tokens.prompt, [1025, ...text.slice(-3)]);
  assert.deepEqual(cut.tokens.chosen, tok.encode(' Yes', false).slice(0, 1));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<bos>' }));
  assert.throws(() => loadTokenizer(dir), {
    message: `${path.join(dir, 'tokenizer_config.json')}: bos_token "<bos>" is not a token of ${path.join(dir, 'tokenizer.json')}`,
  });
  fs.rmSync(path.join(dir, 'tokenizer.json'));
  assert.throws(() => loadTokenizer(dir), { message: `${dir}: no tokenizer.json` });
});
