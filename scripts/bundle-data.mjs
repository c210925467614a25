#!/usr/bin/env node
// Regenerates the bundled datasets in data/ from the original files.
// Usage: node scripts/bundle-data.mjs <source-dir>
//   <source-dir>/persona/*.jsonl            Anthropic persona files (github.com/anthropics/evals, persona/)
//   <source-dir>/persona/LICENSE            CC BY 4.0 text
//   <source-dir>/hh-rlhf/harmless-base/test.jsonl.gz and hh-rlhf/LICENSE (github.com/anthropics/hh-rlhf)
// Persona files are gzip-compressed one by one (level 9, no file name or time in the header, so the output
// is byte-for-byte reproducible); their content is unchanged. The HH-RLHF file is copied as it is (already
// gzip). The attribution READMEs in data/persona and data/hh-rlhf are written by hand, not by this script.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/bundle-data.mjs <source-dir>  (holding persona/ and hh-rlhf/)');
  process.exit(2);
}

function writeAtomic(file, bytes) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}

const personaIn = path.join(source, 'persona');
const personaOut = path.join(repoRoot, 'data', 'persona');
const names = fs
  .readdirSync(personaIn)
  .filter((f) => f.endsWith('.jsonl'))
  .sort();
if (names.length !== 135) console.error(`warning: expected 135 persona files, found ${names.length}`);
let lines = 0;
for (const name of names) {
  const raw = fs.readFileSync(path.join(personaIn, name));
  lines += raw
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0).length;
  writeAtomic(path.join(personaOut, `${name}.gz`), zlib.gzipSync(raw, { level: 9 }));
}
writeAtomic(path.join(personaOut, 'LICENSE'), fs.readFileSync(path.join(personaIn, 'LICENSE')));
console.log(`persona: ${names.length} files, ${lines} rows -> data/persona/<behaviour>.jsonl.gz`);

const hhIn = path.join(source, 'hh-rlhf');
const hhOut = path.join(repoRoot, 'data', 'hh-rlhf');
writeAtomic(
  path.join(hhOut, 'harmless-base', 'test.jsonl.gz'),
  fs.readFileSync(path.join(hhIn, 'harmless-base', 'test.jsonl.gz')),
);
writeAtomic(path.join(hhOut, 'LICENSE'), fs.readFileSync(path.join(hhIn, 'LICENSE')));
console.log('hh-rlhf: harmless-base/test.jsonl.gz copied unchanged');
