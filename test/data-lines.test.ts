import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { readLineBatches, type NumberedLine } from '../src/data/lines.js';
import { tempDir } from './helpers/temp.js';

async function readAll(file: string): Promise<NumberedLine[]> {
  const out: NumberedLine[] = [];
  for await (const batch of readLineBatches(file)) out.push(...batch);
  return out;
}

function tempFile(name: string, bytes: Buffer | string): string {
  const dir = tempDir('prefdyn-lines-');
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

test('strips a BOM and CRLF line ends, keeps blank lines numbered, returns a last line without newline', async () => {
  const file = tempFile(
    'a.txt',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo\r\n\r\nwörld\r\nlast')]),
  );
  assert.deepEqual(await readAll(file), [
    { line: 1, text: 'héllo' },
    { line: 2, text: '' },
    { line: 3, text: 'wörld' },
    { line: 4, text: 'last' },
  ]);
});

test('a line longer than a read chunk, with multi-byte characters across chunk borders, is read whole', async () => {
  // 3-byte and 4-byte UTF-8 characters make chunk borders (1 MiB) fall inside a character.
  const long = '€😀'.repeat(400_000);
  const file = tempFile('long.txt', `short\n${long}\nend\n`);
  const lines = await readAll(file);
  assert.equal(lines.length, 3);
  assert.equal(lines[1]!.text, long);
  assert.deepEqual(lines[2], { line: 3, text: 'end' });
});

test('reads .gz files through gunzip', async () => {
  const file = tempFile('a.jsonl.gz', zlib.gzipSync('one\ntwo\n'));
  assert.deepEqual(
    (await readAll(file)).map((l) => l.text),
    ['one', 'two'],
  );
});
