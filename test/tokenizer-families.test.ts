// Tokenizers of the families researchers use (synthetic files with their behaviours, helpers/
// synthetic-tokenizers.ts), in-context vs separate pair tokenisation, tokenizer_config.json's flags and
// chat templates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { answerIds, multiTokenAnswerWarning, pairTokens, tokenizedPairs } from '../src/tokenizer/pair.js';
import { templatedPair } from '../src/tokenizer/chat-template.js';
import { flippedPair, type PreferencePair } from '../src/data/pair.js';
import { loadSource } from '../src/data/source.js';
import { readRunConfig } from '../src/train/run-folder.js';
import { repoRoot } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { byteLevelTokenizer, sentencePieceTokenizer } from './helpers/synthetic-tokenizers.js';

const NO_LIMIT = { maxLength: 100_000 };
const PROMPT = 'Is it?\n';
const pairOf = (
  prompt: string,
  chosen: string,
  rejected: string,
  meta: Record<string, unknown> = {},
): PreferencePair => ({
  id: 'p',
  group: 'g',
  prompt,
  chosen,
  rejected,
  meta,
});

// Ids of the SentencePiece helper: <s> 1, </s> 2, "\n" = <0x0A> 13, "▁" 259, "▁Yes" 314, "▁No" 316.
const [BOS, EOS, NEWLINE, SPACE, YES, NO] = [1, 2, 13, 259, 314, 316];

test('a vocabulary of 130,000 ids loads (the spread Math.max overflowed the stack) and reads " Yes" in context', () => {
  const dir = tempDir('prefdyn-tok-');
  byteLevelTokenizer(dir, 130_000);
  const tok = loadTokenizer(dir, { vocabSize: 130_000 });
  assert.equal(tok.vocabSize, 130_000);
  assert.deepEqual(tok.bos, { token: '<|begin_of_text|>', id: 129_998 });
  assert.deepEqual(tok.specialPrefix, [129_998]);
  // Byte-level BPE: " Yes" is one token alone and in context (the real Llama-3 id is 7566).
  for (const tokenize of ['in-context', 'separate'] as const)
    assert.deepEqual(answerIds(tok, PROMPT, ' Yes', tokenize), [257]);
});

test('SentencePiece: " Yes" alone is "▁" + "▁Yes", in context the one token "▁Yes"', () => {
  const dir = tempDir('prefdyn-tok-');
  sentencePieceTokenizer(dir);
  const tok = loadTokenizer(dir);
  assert.deepEqual(tok.encode(' Yes', false), [SPACE, YES]);
  assert.deepEqual(answerIds(tok, PROMPT, ' Yes', 'separate'), [SPACE, YES]);
  assert.deepEqual(answerIds(tok, PROMPT, ' Yes', 'in-context'), [YES]);
  const pair = pairOf(PROMPT, ' Yes', ' No', { label: 1 });
  const inContext = pairTokens(tok, pair, NO_LIMIT, 'in-context').tokens;
  assert.deepEqual(inContext, { prompt: tok.encode(PROMPT, true), chosen: [YES], rejected: [NO] });
  assert.deepEqual([...inContext.prompt, ...inContext.chosen], tok.encode(PROMPT + ' Yes', true));
  assert.equal(inContext.prompt[0], BOS);
  assert.equal(inContext.prompt.at(-1), NEWLINE);
  const separate = pairTokens(tok, pair, NO_LIMIT, 'separate').tokens;
  assert.deepEqual(separate.chosen, [SPACE, YES, EOS]);
  assert.deepEqual(separate.rejected, [SPACE, NO, EOS]);
  // The theory needs one token per answer: separate encoding is warned about, in-context is not.
  assert.equal(multiTokenAnswerWarning([pair], [inContext]), undefined);
  assert.equal(
    multiTokenAnswerWarning([pair, { ...pair, id: 'q', meta: {} }], [separate, separate]),
    'WARNING: in 1 of 2 Yes/No pairs an answer is not one token (pair p: chosen " Yes" is 3 tokens, 259, 314, 2); ' +
      "theory.md s.2's last-layer setting and its predictions assume one token per answer",
  );
});

test('tokenizer_config.json: add_bos_token / add_eos_token override the post-processor; EOS never follows a prompt', () => {
  const dir = tempDir('prefdyn-tok-');
  sentencePieceTokenizer(dir, { add_bos_token: false, add_eos_token: true });
  const tok = loadTokenizer(dir);
  assert.deepEqual(tok.encode(' Yes', true), [SPACE, YES, EOS]);
  const t = pairTokens(tok, pairOf(PROMPT, ' Yes', ' No'), NO_LIMIT, 'in-context').tokens;
  assert.deepEqual(t, { prompt: tok.encode(PROMPT, false), chosen: [YES], rejected: [NO] });
  sentencePieceTokenizer(dir, { add_bos_token: true, add_eos_token: false });
  assert.deepEqual(loadTokenizer(dir).encode(' Yes', true), [BOS, SPACE, YES]);
  const configFile = path.join(dir, 'tokenizer_config.json');
  sentencePieceTokenizer(dir, { add_eos_token: 'yes' });
  assert.throws(() => loadTokenizer(dir), { message: `${configFile}: add_eos_token must be true or false` });
  sentencePieceTokenizer(dir, { pad_token: '<pad>' });
  assert.throws(() => loadTokenizer(dir), {
    message: `${configFile}: pad_token "<pad>" is not a token of ${path.join(dir, 'tokenizer.json')}`,
  });
  sentencePieceTokenizer(dir, { pad_token: '</s>', added_tokens_decoder: { '2': { content: '</s>' } } });
  assert.deepEqual(loadTokenizer(dir).pad, { token: '</s>', id: 2 });
  assert.deepEqual(loadTokenizer(dir).unk, { token: '<unk>', id: 0 });
  sentencePieceTokenizer(dir, { added_tokens_decoder: { '7': { content: '</s>' } } });
  assert.throws(() => loadTokenizer(dir), {
    message: `${configFile}: added_tokens_decoder["7"] is "</s>", which ${path.join(dir, 'tokenizer.json')} has as id 2`,
  });
});

test('in context, a prompt whose last token merges with the response is cut before it, and counted', () => {
  const tok = loadTokenizer(path.join(repoRoot, 'models', 'gpt2-tokenizer'));
  // GPT-2: "Hello wor" is [Hello, " wor"]; "Hello world" is [Hello, " world"].
  const pair = pairOf('Hello wor', 'ld peace', 'ld war');
  const { tokens, note } = tokenizedPairs(tok, [pair, pairOf('Hello', ' world', ' there')], NO_LIMIT, 'in-context');
  const t = tokens[0]!;
  assert.deepEqual(t.prompt, tok.encode('Hello', false));
  assert.deepEqual(
    [...Array.from(t.prompt), ...Array.from(t.chosen)],
    [...tok.encode('Hello world peace', false), tok.eos!.id],
  );
  assert.deepEqual(
    [...Array.from(t.prompt), ...Array.from(t.rejected)],
    [...tok.encode('Hello world war', false), tok.eos!.id],
  );
  assert.equal(
    note,
    "in 1 of 2 pairs the prompt's last tokens merge with the response when tokenised together; they are scored as part of the response (--tokenize in-context)",
  );
  assert.equal(tokenizedPairs(tok, [pair], NO_LIMIT, 'separate').note, undefined);
});

test("the bundled model's tokenizer gives the same ids in context as separately for the paper's behaviours and hh-rlhf", async () => {
  // Byte-level BPE splits before a leading space, so in-context tokenisation leaves GPT-2 results unchanged.
  const tok = loadTokenizer(path.join(repoRoot, 'models', 'prefdyn-tiny'));
  const persona = await loadSource(
    'persona:subscribes-to-average-utilitarianism,optionality-increasing,subscribes-to-Buddhism',
    {},
  );
  const hh = await loadSource('hh-rlhf', {});
  for (const pairs of [persona.pairs, hh.pairs.slice(0, 300)]) {
    const limits = { maxLength: 1024 };
    const a = tokenizedPairs(tok, pairs, limits, 'in-context');
    const b = tokenizedPairs(tok, pairs, limits, 'separate');
    assert.ok(pairs.length >= 300);
    assert.deepEqual(a, b);
  }
});

// A Llama-3-style template: BOS, headers, content trimmed, <|eot_id|> after each turn.
const LLAMA3_TEMPLATE =
  "{{- bos_token }}{%- for message in messages %}{%- if message['role'] == 'system' %}{{- raise_exception('no system messages here') }}{%- endif %}" +
  "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

test("chat pairs are rendered with the model's chat_template as TRL does; no second BOS, no EOS after the turn", async () => {
  const dir = tempDir('prefdyn-tok-');
  byteLevelTokenizer(dir, 1000, { chat_template: LLAMA3_TEMPLATE });
  const tok = loadTokenizer(dir);
  const data = path.join(dir, 'chat.jsonl');
  const row = (system: boolean) => ({
    prompt: [...(system ? [{ role: 'system', content: 'Be brief.' }] : []), { role: 'user', content: 'Is it?' }],
    chosen: [{ role: 'assistant', content: 'Yes' }],
    rejected: [{ role: 'assistant', content: 'No' }],
  });
  fs.writeFileSync(data, [row(false), row(true)].map((r) => JSON.stringify(r) + '\n').join(''));
  const { pairs } = await loadSource(data, {});
  const header = (role: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n`;
  const text = templatedPair(tok.chatTemplate!, (pairs[0]!.meta as { chat: never }).chat, 'chat/0');
  assert.deepEqual(text, {
    prompt: `<|begin_of_text|>${header('user')}Is it?<|eot_id|>${header('assistant')}`,
    chosen: 'Yes<|eot_id|>',
    rejected: 'No<|eot_id|>',
  });
  const t = pairTokens(tok, pairs[0]!, NO_LIMIT, 'in-context').tokens;
  assert.deepEqual(t.prompt, tok.encode(text.prompt, false));
  assert.equal(t.prompt[0], 998);
  assert.equal(Array.from(t.prompt).filter((id) => id === 998).length, 1);
  assert.deepEqual(t.chosen, tok.encode('Yes<|eot_id|>', false));
  // --flip swaps the messages with the strings.
  const flipped = pairTokens(tok, flippedPair(pairs[0]!), NO_LIMIT, 'in-context').tokens;
  assert.deepEqual(flipped.chosen, t.rejected);
  // A template that raises stops with one line naming the file.
  assert.throws(() => pairTokens(tok, pairs[1]!, NO_LIMIT, 'in-context'), {
    message: `${path.join(dir, 'tokenizer_config.json')}: chat_template cannot be rendered (no system messages here)`,
  });
  // Without a template, the transcript rendering of the data loader.
  byteLevelTokenizer(dir, 1000);
  const plain = pairTokens(loadTokenizer(dir), pairs[0]!, NO_LIMIT, 'in-context').tokens;
  assert.deepEqual(plain.prompt, loadTokenizer(dir).encode('\n\nHuman: Is it?\n\nAssistant:', true));
  // chat_template.jinja beside tokenizer.json is read too; a template that does not parse names its file.
  fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '{% if %}');
  assert.throws(() => loadTokenizer(dir), {
    message: `${path.join(dir, 'chat_template.jinja')}: chat_template cannot be parsed (Unexpected token: CloseStatement)`,
  });
});

test('a run folder written before --tokenize existed resumes with separate tokenisation', () => {
  const dir = tempDir('prefdyn-run-');
  const config = { model: 'm', data: 'd', out: dir };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ config }));
  assert.equal(readRunConfig(dir).config.tokenize, 'separate');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ config: { ...config, tokenize: 'in-context' } }));
  assert.equal(readRunConfig(dir).config.tokenize, 'in-context');
});
