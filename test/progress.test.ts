import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stderrCounter } from '../src/util/progress.js';

function captureStderr(fn: () => void): string {
  const write = process.stderr.write;
  let out = '';
  process.stderr.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

test('a long pass reports about every 10% on plain stderr, and the end', () => {
  const out = captureStderr(() => {
    const report = stderrCounter('embedding', 100, false);
    for (let done = 8; done < 200; done += 8) report(done, 200);
    report(200, 200);
  });
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 10, out);
  assert.match(lines[0]!, /^embedding 24\/200 \(12%, eta \d+s\)$/);
  assert.match(lines.at(-1)!, /^embedding 200\/200 \(100%, eta 0s\)$/);
});

test('a short pass is silent', () => {
  assert.equal(
    captureStderr(() => stderrCounter('scoring', 100, false)(50, 50)),
    '',
  );
});
