// The truncation rule of src/tokenizer/truncation.ts (TRL's keep_end), the limits a model allows, and
// the model's own refusal of sequences past its context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { truncatedPair, truncationNote } from '../src/tokenizer/truncation.js';
import { pairTokens, tokenizedPairs } from '../src/tokenizer/pair.js';
import { loadTokenizer } from '../src/tokenizer/load.js';
import { truncationLimits } from '../src/model/context-length.js';
import { loadModel } from '../src/model/load.js';
import type { ModelConfig } from '../src/model/config.js';
import { fixturesDir } from './helpers/cli.js';
import { parityDir } from './helpers/parity.js';

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test('a pair that fits is returned as it is', () => {
  const t = { prompt: range(0, 6), chosen: range(100, 3), rejected: range(200, 4) };
  const r = truncatedPair(t, { maxLength: 10 });
  assert.equal(r.truncated, false);
  assert.equal(r.tokens, t);
});

test('without --max-prompt-length the prompt is kept whole while a response token fits; responses lose their end', () => {
  const t = { prompt: range(0, 6), chosen: range(100, 6), rejected: range(200, 2) };
  const r = truncatedPair(t, { maxLength: 10 });
  assert.equal(r.truncated, true);
  assert.deepEqual(r.tokens, { prompt: range(0, 6), chosen: range(100, 4), rejected: range(200, 2) });
});

test('a prompt that alone fills --max-length keeps its last L - 1 tokens and one token of each response', () => {
  const t = { prompt: range(0, 12), chosen: range(100, 3), rejected: [200] };
  const r = truncatedPair(t, { maxLength: 8 });
  assert.deepEqual(r.tokens, { prompt: range(5, 7), chosen: [100], rejected: [200] });
  // A leading special token (BOS) stays in front of the kept tail.
  const withBos = truncatedPair(t, { maxLength: 8 }, 1);
  assert.deepEqual(withBos.tokens.prompt, [0, ...range(6, 6)]);
});

test('--max-prompt-length cuts the prompt from its start only when the sequence is too long, as TRL', () => {
  const fits = { prompt: range(0, 6), chosen: [100], rejected: [200] };
  assert.equal(truncatedPair(fits, { maxLength: 10, maxPromptLength: 3 }).truncated, false);
  const long = { prompt: range(0, 8), chosen: range(100, 4), rejected: [200] };
  // prompt -> last 5 tokens; 5 + 4 fits in 10: responses stay whole.
  assert.deepEqual(truncatedPair(long, { maxLength: 10, maxPromptLength: 5 }).tokens, {
    prompt: range(3, 5),
    chosen: range(100, 4),
    rejected: [200],
  });
  // prompt -> last 7 tokens; still 7 + 4 > 10: responses keep 3.
  assert.deepEqual(truncatedPair(long, { maxLength: 10, maxPromptLength: 7 }).tokens, {
    prompt: range(1, 7),
    chosen: range(100, 3),
    rejected: [200],
  });
});

test('on a real tokenizer, an HH-style prompt keeps its last turn and "\\n\\nAssistant:"', () => {
  const tok = loadTokenizer(path.join(fixturesDir, 'tokenizers', 'gpt2-small'));
  const prompt = `\n\nHuman: ${'tell me a long story about the river and the sea. '.repeat(6)}\n\nAssistant: Once.\n\nHuman: Shorter please?\n\nAssistant:`;
  const pair = {
    id: 'hh/0',
    group: 'harmless-base',
    prompt,
    chosen: ' Sure, here is one.',
    rejected: ' No.',
    meta: {},
  };
  const full = pairTokens(tok, pair, { maxLength: 10_000 }, 'in-context').tokens;
  const L = 40;
  assert.ok(full.prompt.length > L, `the prompt (${full.prompt.length} tokens) must exceed ${L}`);
  const { tokens, truncated, note } = tokenizedPairs(
    tok,
    [pair, { ...pair, id: 'hh/1', prompt: 'Hi?\n\nAssistant:' }],
    { maxLength: L },
    'in-context',
  );
  assert.equal(truncated, 1);
  assert.equal(note, "truncated 1 of 2 pairs to --max-length 40 (prompt kept from its end, as TRL's keep_end)");
  const t = tokens[0]!;
  // The prompt gives way first (to L - 1 = 39 tokens), then the responses keep what fits: one token.
  assert.deepEqual(t.prompt, Array.from(full.prompt).slice(-(L - 1)));
  assert.ok(tok.decode(Array.from(t.prompt)).endsWith('\n\nHuman: Shorter please?\n\nAssistant:'));
  assert.deepEqual(t.chosen, Array.from(full.chosen).slice(0, 1));
  assert.deepEqual(t.rejected, Array.from(full.rejected).slice(0, 1));
  assert.equal(tokens[1]!.prompt.length + Math.max(tokens[1]!.chosen.length, tokens[1]!.rejected.length) <= L, true);
  // With room for the responses, only the prompt is cut.
  const roomy = pairTokens(tok, pair, { maxLength: L, maxPromptLength: L - full.chosen.length }, 'in-context').tokens;
  assert.deepEqual(roomy.chosen, full.chosen);
  assert.equal(roomy.prompt.length + full.chosen.length, L);
});

test('the note names both limits; nothing is said when nothing was cut', () => {
  assert.equal(truncationNote(0, 5, { maxLength: 64 }), undefined);
  assert.equal(
    truncationNote(3, 5, { maxLength: 64, maxPromptLength: 32 }),
    "truncated 3 of 5 pairs to --max-length 64 and --max-prompt-length 32 (prompt kept from its end, as TRL's keep_end)",
  );
});

test("limits: --max-length defaults to the model's context and may not exceed it; the prompt limit leaves room for a response token", () => {
  const gpt2 = { arch: 'gpt2', maxPositionEmbeddings: 64 } as ModelConfig;
  const llama = {
    arch: 'llama',
    maxPositionEmbeddings: 256,
    rope: { theta: 1e4, scaling: { type: 'default' } },
  } as ModelConfig;
  assert.deepEqual(truncationLimits({}, gpt2), { maxLength: 64 });
  assert.deepEqual(truncationLimits({ maxLength: 32, maxPromptLength: 31 }, gpt2), {
    maxLength: 32,
    maxPromptLength: 31,
  });
  assert.throws(() => truncationLimits({ maxLength: 65 }, gpt2), {
    message: "--max-length 65 exceeds the model's n_positions 64 (config.json); use at most 64",
  });
  assert.throws(() => truncationLimits({ maxLength: 300 }, llama), {
    message: "--max-length 300 exceeds the model's max_position_embeddings 256 (config.json); use at most 256",
  });
  assert.throws(() => truncationLimits({ maxPromptLength: 64 }, gpt2), {
    message: '--max-prompt-length must be at least 1 and less than --max-length 64 (so a response token fits), got 64',
  });
  assert.throws(() => truncationLimits({ maxLength: 1 }, gpt2), {
    message: '--max-length must be at least 2 (one prompt and one response token), got 1',
  });
});

for (const name of ['gpt2', 'llama-gqa-tied']) {
  test(`${name}: a sequence past the model's context is refused with a UserError suggesting --max-length`, async () => {
    const model = await loadModel(path.join(parityDir, name));
    const limit = model.config.maxPositionEmbeddings;
    const field = name === 'gpt2' ? 'n_positions' : 'max_position_embeddings';
    const T = limit + 1;
    assert.throws(() => model.forward(new Int32Array(T), 1, T, { logits: 'none' }), {
      name: 'UserError',
      message: `a sequence of ${T} tokens exceeds the model's ${field} ${limit} (config.json); truncate the pairs with --max-length ${limit} or less`,
    });
    assert.equal(model.forward(new Int32Array(limit), 1, limit, { logits: 'none' }).hidden.shape[1], limit);
  });
}
