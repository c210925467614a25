// Pretraining text: a list of documents from the bundled data or a user's file. The persona source
// contributes only the statements, never the questions with their answers, so no preference label
// leaks into the model that is later asked those questions; hh-rlhf contributes the preferred
// dialogues (prompt + chosen). A user's file is plain text (documents separated by blank lines) or
// JSONL (one document per line: a JSON string, or an object with a string "text" field).
import fs from 'node:fs';
import zlib from 'node:zlib';
import { UserError } from '../util/errors.js';
import { loadSource } from '../data/source.js';

export const TEXT_SOURCE_SYNTAX =
  'persona, persona:<behaviour>[,<behaviour>...], hh-rlhf, or a path to a .txt or .jsonl file (optionally .gz)';

export interface TextDocuments {
  /** Where the documents came from and under which licence, for logs and model cards. */
  description: string;
  documents: string[];
}

async function personaStatements(spec: string): Promise<TextDocuments> {
  const { description, pairs } = await loadSource(spec);
  const documents = pairs.map((p) => {
    const statement = p.meta.statement;
    if (typeof statement !== 'string') throw new UserError(`${spec}: pair ${p.id} has no "statement" to pretrain on`);
    return statement;
  });
  return { description: `${description}; the statements only`, documents };
}

async function hhRlhfDialogues(): Promise<TextDocuments> {
  const { description, pairs } = await loadSource('hh-rlhf');
  return { description: `${description}; prompt + chosen`, documents: pairs.map((p) => p.prompt + p.chosen) };
}

function readText(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
    if (file.toLowerCase().endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`text file not found: ${file}; expected ${TEXT_SOURCE_SYNTAX}`);
    if (code === 'EISDIR') throw new UserError(`${file} is a folder; expected ${TEXT_SOURCE_SYNTAX}`);
    throw new UserError(`${file}: cannot read (${(err as Error).message})`);
  }
  return bytes
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .replace(/\r\n/g, '\n');
}

function jsonlDocuments(file: string, text: string): string[] {
  const documents: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new UserError(
        `${file}:${i + 1}: not valid JSON (${(err as Error).message}); expected a JSON string or an object with a "text" field`,
      );
    }
    const doc = typeof value === 'string' ? value : (value as { text?: unknown } | null)?.text;
    if (typeof doc !== 'string') {
      throw new UserError(`${file}:${i + 1}: expected a JSON string or an object with a string "text" field`);
    }
    documents.push(doc);
  });
  return documents;
}

async function fileDocuments(file: string): Promise<TextDocuments> {
  const text = readText(file);
  const isJsonl = /\.jsonl(\.gz)?$/i.test(file);
  const documents = (
    isJsonl ? jsonlDocuments(file, text) : text.split(/\n\s*\n/).map((d) => d.replace(/\n+$/, ''))
  ).filter((d) => d.trim().length > 0);
  if (documents.length === 0) throw new UserError(`${file}: no text to pretrain on (the file is empty)`);
  return {
    description: `file ${file} (${isJsonl ? 'JSONL, one document per line' : 'plain text, documents separated by blank lines'})`,
    documents,
  };
}

/** The documents of one text source (TEXT_SOURCE_SYNTAX). */
export async function loadTextDocuments(spec: string): Promise<TextDocuments> {
  if (spec === 'persona' || spec.startsWith('persona:')) return personaStatements(spec);
  if (spec === 'hh-rlhf') return hhRlhfDialogues();
  return fileDocuments(spec);
}
