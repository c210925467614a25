// Input the loaders used to pass on silently is refused with one line naming file, line and field:
// a --prompt-field column missing from a row, bytes that are not UTF-8, a chat role prefdyn does not
// know, a text longer than MAX_TEXT_CHARS (refused before tokenising), field options on bundled data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadSource } from '../src/data/source.js';
import { MAX_TEXT_CHARS } from '../src/data/generic.js';
import { runCli } from './helpers/cli.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { tempDir } from './helpers/temp.js';

const tmp = tempDir('prefdyn-data-validation-');

const row = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: `r${i}`, question: `Q${i}?\n`, chosen: ' Yes', rejected: ' No', ...extra });
function write(name: string, content: string | Buffer): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}
const stats = (args: string[]) => runCli(['data', 'stats', ...args, '--json']);

test('--prompt-field naming a column a row lacks is an error naming file, line and field (it was ignored)', () => {
  const file = write('q.jsonl', [row(0), JSON.stringify({ id: 'r1', chosen: ' Yes', rejected: ' No' })].join('\n'));
  const ok = stats([file, '--prompt-field', 'question', '--skip-invalid']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).total.pairs, 1);
  const r = stats([file, '--prompt-field', 'prompt']);
  assert.deepEqual(
    [r.code, r.stderr],
    [1, `prefdyn: ${file}:1: field "prompt": missing; --prompt-field names a column every row must have\n`],
  );
  const second = stats([file, '--prompt-field', 'question']);
  assert.deepEqual(
    [second.code, second.stderr],
    [1, `prefdyn: ${file}:2: field "question": missing; --prompt-field names a column every row must have\n`],
  );
});

test('a field option on a bundled source (fixed columns) is a usage error, not ignored', () => {
  const r = stats(['persona:agreeableness', '--prompt-field', 'question']);
  assert.deepEqual(
    [r.code, r.stderr],
    [2, 'prefdyn: --prompt-field maps the columns of .jsonl/.json files; persona:agreeableness has fixed columns\n'],
  );
});

test('bytes that are not UTF-8 are an error naming file and line (they became U+FFFD)', async () => {
  const bad = Buffer.concat([
    Buffer.from(row(0) + '\n' + row(1) + '\n'),
    Buffer.from('{"id": "r2", "prompt": "caf'),
    Buffer.from([0xe9]),
    Buffer.from('", "chosen": " Yes", "rejected": " No"}\n'),
  ]);
  for (const [name, content, where] of [
    ['latin1.jsonl', bad, ':3'],
    ['latin1.jsonl.gz', zlib.gzipSync(bad), ':3'],
    [
      'latin1.json',
      Buffer.concat([
        Buffer.from('[\n'),
        Buffer.from('{"id": "x", "prompt": "caf'),
        Buffer.from([0xe9]),
        Buffer.from('", "chosen": " a", "rejected": " b"}\n]\n'),
      ]),
      ':2',
    ],
  ] as const) {
    const file = write(name, content);
    const r = stats([file]);
    assert.deepEqual(
      [r.code, r.stderr],
      [1, `prefdyn: ${file}${where}: not valid UTF-8 text; save the file as UTF-8\n`],
    );
  }
  // Far into the file, past the first read chunk (1 MiB), with a multi-byte character split across chunks.
  const lines = Array.from({ length: 12_000 }, (_, i) => row(i, { note: 'é😀'.repeat(40) }));
  const good = Buffer.from(lines.join('\n') + '\n');
  const file = write('far.jsonl', Buffer.concat([good, Buffer.from([0xc3, 0x28, 0x0a])]));
  const r = stats([file, '--prompt-field', 'question']);
  assert.deepEqual([r.code, r.stderr], [1, `prefdyn: ${file}:12001: not valid UTF-8 text; save the file as UTF-8\n`]);
  const { pairs } = await loadSource(write('far-ok.jsonl', good), { fields: { prompt: 'question' } });
  assert.equal(pairs.length, 12_000);
  assert.equal(pairs[11_999]!.prompt, 'Q11999?\n');
});

test('a chat role other than system, user (human) or assistant is an error naming the field and the role', () => {
  const chat = (role: string) =>
    JSON.stringify({
      prompt: [{ role: 'user', content: 'Hi?' }],
      chosen: [
        { role: 'assistant', content: 'Hello.' },
        { role, content: 'lookup()' },
      ],
      rejected: [{ role: 'assistant', content: 'Go away.' }],
    });
  const ok = stats([write('chat-ok.jsonl', chat('user'))]);
  assert.equal(ok.code, 0, ok.stderr);
  const file = write('chat.jsonl', [chat('user'), chat('tool')].join('\n'));
  const r = stats([file]);
  assert.deepEqual(
    [r.code, r.stderr],
    [1, `prefdyn: ${file}:2: field "chosen[1].role": is "tool"; expected system, user or assistant (or human)\n`],
  );
});

test('a text longer than the limit is refused before tokenising, naming file, line and field (logprobs ran out of memory)', () => {
  const model = path.join(tmp, 'tiny');
  initTinyLlama(model);
  const long = ' ' + 'x'.repeat(MAX_TEXT_CHARS); // one word, one character past the limit
  const file = write('long.jsonl', [row(0), row(1, { chosen: long })].join('\n') + '\n');
  const out = path.join(tmp, 'lp.jsonl');
  const r = runCli(['logprobs', '--model', model, '--data', file, '--prompt-field', 'question', '--out', out]);
  assert.deepEqual(
    [r.code, r.stderr],
    [1, `prefdyn: ${file}:2: field "chosen": holds 1,000,001 characters; a text may hold at most 1,000,000\n`],
  );
  assert.equal(fs.existsSync(out), false);
  const atLimit = write('limit.jsonl', row(0, { chosen: long.slice(1) }) + '\n');
  const s = stats([atLimit, '--prompt-field', 'question']);
  assert.equal(s.code, 0, s.stderr);
});
