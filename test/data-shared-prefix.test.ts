import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSharedPrefix } from '../src/data/shared-prefix.js';

test('transcripts split after the last shared "\\n\\nAssistant:"', () => {
  const c = '\n\nHuman: hi\n\nAssistant: Hello! Sure.';
  const r = '\n\nHuman: hi\n\nAssistant: Hello? No.';
  assert.deepEqual(splitSharedPrefix(c, r), {
    prompt: '\n\nHuman: hi\n\nAssistant:',
    chosen: ' Hello! Sure.',
    rejected: ' Hello? No.',
  });
});

test('a cut inside a word backs off to the word start, and the space goes to the responses', () => {
  assert.deepEqual(splitSharedPrefix('The answer is cats', 'The answer is cars'), {
    prompt: 'The answer is',
    chosen: ' cats',
    rejected: ' cars',
  });
});

test('a cut after a space moves the space into the responses (as TRL does)', () => {
  assert.deepEqual(splitSharedPrefix('Q: 2+2? A: 4', 'Q: 2+2? A: 5'), {
    prompt: 'Q: 2+2? A:',
    chosen: ' 4',
    rejected: ' 5',
  });
});

test('a cut between a symbol and a digit stays where the texts differ', () => {
  assert.deepEqual(splitSharedPrefix('2+2=4', '2+2=5'), { prompt: '2+2=', chosen: '4', rejected: '5' });
});

test('one text continuing the other splits before the shared last word', () => {
  assert.deepEqual(splitSharedPrefix('Say yes', 'Say yesterday'), {
    prompt: 'Say',
    chosen: ' yes',
    rejected: ' yesterday',
  });
});

test('identical texts and texts with no shared beginning have no split, with the reason', () => {
  assert.deepEqual(splitSharedPrefix('same', 'same'), { reason: 'chosen and rejected are identical' });
  assert.deepEqual(splitSharedPrefix('alpha', 'beta'), {
    reason: 'chosen and rejected share no beginning to use as the prompt; give a prompt field',
  });
});
