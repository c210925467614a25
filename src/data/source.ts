// Data sources (architecture.md contract 2): `persona`, `persona:<behaviour>[,<behaviour>...]`,
// `hh-rlhf`, or a path to a .jsonl / .json file (optionally .gz). Everything is read as a stream of
// pair batches, so a caller that keeps only aggregates (data stats) never holds the whole file.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { UsageError, UserError } from '../util/errors.js';
import { HH_RLHF_GROUP, bundledDataDir, hhRlhfFile, personaBehaviours, personaFile } from './bundled.js';
import { DataError, type RowLocation, type SkippedRow } from './errors.js';
import { fieldMap, genericPair } from './generic.js';
import { hhRlhfPair } from './hh-rlhf.js';
import { parseJsonLine, requireObject, jsonTypeName, type JsonObject } from './json-row.js';
import { decodeUtf8Lines, readLineBatches } from './lines.js';
import { flippedPair, type PreferencePair } from './pair.js';
import { personaPair } from './persona.js';
import type { SourceOptions } from './source-options.js';

export type SourceSpec =
  | { kind: 'persona'; behaviours: string[] }
  | { kind: 'hh-rlhf' }
  | { kind: 'file'; file: string; format: 'jsonl' | 'json' };

export const SOURCE_SYNTAX = 'persona, persona:<behaviour>[,<behaviour>...], hh-rlhf, or a path to a .jsonl or .json file';

/** The closest name by edit distance, if it is close enough to be a likely typo. */
function closestName(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const prev = Array.from({ length: c.length + 1 }, (_, j) => j);
    for (let i = 1; i <= name.length; i++) {
      let diag = prev[0]!;
      prev[0] = i;
      for (let j = 1; j <= c.length; j++) {
        const up = prev[j]!;
        prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (name[i - 1] === c[j - 1] ? 0 : 1));
        diag = up;
      }
    }
    if (prev[c.length]! < bestDistance) [best, bestDistance] = [c, prev[c.length]!];
  }
  return best;
}

function parsePersonaSpec(list: string): SourceSpec {
  const known = personaBehaviours();
  const names = list.split(',').map((s) => s.trim());
  if (names.some((n) => n.length === 0)) throw new UserError(`empty behaviour name in "persona:${list}"; expected persona:<behaviour>[,<behaviour>...]`);
  const seen = new Set<string>();
  for (const name of names) {
    if (!known.includes(name)) {
      const guess = closestName(name, known);
      throw new UserError(`unknown persona behaviour "${name}"${guess ? `; did you mean "${guess}"?` : ''} (\`prefdyn data list\` shows all ${known.length})`);
    }
    if (seen.has(name)) throw new UserError(`persona behaviour "${name}" is listed twice`);
    seen.add(name);
  }
  return { kind: 'persona', behaviours: names };
}

export function parseSourceSpec(spec: string): SourceSpec {
  if (spec === 'persona') return { kind: 'persona', behaviours: personaBehaviours() };
  if (spec.startsWith('persona:')) return parsePersonaSpec(spec.slice('persona:'.length));
  if (spec === 'hh-rlhf') return { kind: 'hh-rlhf' };
  const format = /\.jsonl(\.gz)?$/i.test(spec) ? 'jsonl' : /\.json(\.gz)?$/i.test(spec) ? 'json' : undefined;
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(spec);
  } catch {
    if (format || spec.includes('/') || spec.includes(path.sep)) throw new UserError(`data file not found: ${spec}`);
    throw new UserError(`unknown data source "${spec}"; expected ${SOURCE_SYNTAX}`);
  }
  if (stat.isDirectory()) throw new UserError(`${spec} is a folder; expected a .jsonl or .json file`);
  if (!format) throw new UserError(`${spec}: not a data file prefdyn reads; expected a .jsonl or .json file (optionally .gz)`);
  return { kind: 'file', file: spec, format };
}

/** What a row becomes: a pair, or a reported skip. */
type RowOutcome = PreferencePair | { id?: string; reason: string };

interface RawRow {
  loc: RowLocation;
  index: number;
  /** A .jsonl line (parsed here, so a bad line is reported at its place), or an element of a .json array. */
  text?: string;
  value?: unknown;
}

/** The rows of a .jsonl file: blank lines are not rows; a file with no rows is an error. */
async function* jsonlRows(file: string, shown: string): AsyncGenerator<RawRow[]> {
  let rows = 0;
  for await (const lines of readLineBatches(file, shown)) {
    const batch: RawRow[] = [];
    for (const { line, text } of lines) {
      if (text.trim().length === 0) continue;
      batch.push({ loc: { file: shown, line }, index: line - 1, text });
    }
    rows += batch.length;
    if (batch.length) yield batch;
  }
  if (rows === 0) throw new DataError({ file: shown }, 'no rows: the file is empty; expected one JSON object per line');
}

/** The rows of a .json file: one array, read whole (use .jsonl for files too large for that). */
async function* jsonArrayRows(file: string, shown: string): AsyncGenerator<RawRow[]> {
  let bytes = await fs.promises.readFile(file);
  if (file.toLowerCase().endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  const text = decodeUtf8Lines(bytes, shown).replace(/^\uFEFF/, '');
  if (text.trim().length === 0) throw new DataError({ file: shown }, 'no rows: the file is empty; expected a JSON array of row objects');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError({ file: shown }, `not valid JSON (${(err as Error).message}); expected a JSON array of row objects (or use .jsonl, one object per line)`);
  }
  if (!Array.isArray(value)) throw new DataError({ file: shown }, `expected a JSON array of row objects, got ${jsonTypeName(value)}`);
  if (value.length === 0) throw new DataError({ file: shown }, 'no rows: the array is empty');
  yield value.map((v, i) => ({ loc: { file: shown, row: i + 1 }, index: i, value: v }));
}

/** Errors of the file system or zlib (unreadable, not gzip) as one-line data errors. */
async function* withReadErrors<T>(rows: AsyncIterable<T>, shown: string): AsyncGenerator<T> {
  try {
    yield* rows;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new DataError({ file: shown }, `cannot read: ${(err as Error).message}`);
  }
}

async function* pairBatches(
  rows: AsyncIterable<RawRow[]>,
  convert: (row: JsonObject, raw: RawRow) => RowOutcome,
  opts: SourceOptions,
): AsyncGenerator<PreferencePair[]> {
  const skip = (s: SkippedRow) => opts.onSkip?.(s);
  for await (const batch of rows) {
    const pairs: PreferencePair[] = [];
    for (const raw of batch) {
      let outcome: RowOutcome;
      try {
        const row = raw.text !== undefined ? parseJsonLine(raw.text, raw.loc) : requireObject(raw.value, raw.loc);
        outcome = convert(row, raw);
      } catch (err) {
        if (!(err instanceof DataError && opts.skipInvalid)) throw err;
        skip({ ...err.location, reason: err.reason });
        continue;
      }
      if ('reason' in outcome) skip({ ...raw.loc, ...outcome });
      else pairs.push(opts.flip ? flippedPair(outcome) : outcome);
    }
    if (pairs.length) yield pairs;
  }
}

function bundledName(file: string): string {
  return path.join('data', path.relative(bundledDataDir, file));
}

async function* personaBatches(behaviours: string[], opts: SourceOptions): AsyncGenerator<PreferencePair[]> {
  for (const behaviour of behaviours) {
    const file = personaFile(behaviour);
    const shown = bundledName(file);
    yield* pairBatches(withReadErrors(jsonlRows(file, shown), shown), (row, raw) => personaPair(row, behaviour, raw.index, raw.loc), opts);
  }
}

function fileStem(file: string): string {
  return path.basename(file).replace(/\.(jsonl|json)(\.gz)?$/i, '');
}

/** Pairs from a user's file; ids must be unique within it. */
function fileBatches(file: string, format: 'jsonl' | 'json', opts: SourceOptions): AsyncGenerator<PreferencePair[]> {
  const fields = fieldMap(opts.fields);
  const stem = fileStem(file);
  const firstSeen = new Map<string, string>();
  const rows = withReadErrors(format === 'jsonl' ? jsonlRows(file, file) : jsonArrayRows(file, file), file);
  return pairBatches(rows, (row, raw) => {
    const pair = genericPair(row, {
      loc: raw.loc,
      fields,
      promptRequired: opts.fields?.prompt !== undefined,
      fileStem: stem,
      index: raw.index,
    });
    const where = raw.loc.line !== undefined ? `line ${raw.loc.line}` : `row ${raw.loc.row}`;
    const earlier = firstSeen.get(pair.id);
    if (earlier !== undefined) throw new DataError({ ...raw.loc, field: fields.id ?? 'id' }, `"${pair.id}" is already the id of ${earlier}; ids must be unique`);
    firstSeen.set(pair.id, where);
    return pair;
  }, opts);
}

export interface PairStream {
  description: string;
  batches: AsyncIterable<PreferencePair[]>;
}

export function streamSource(spec: string, opts: SourceOptions = {}): PairStream {
  const source = parseSourceSpec(spec);
  const mapped = Object.entries(opts.fields ?? {}).find(([, name]) => name !== undefined);
  if (mapped && source.kind !== 'file')
    throw new UsageError(`--${mapped[0]}-field maps the columns of .jsonl/.json files; ${spec} has fixed columns`);
  const flipped = opts.flip ? ', chosen and rejected flipped' : '';
  switch (source.kind) {
    case 'persona': {
      const all = personaBehaviours().length;
      const which = source.behaviours.length === all ? `all ${all} behaviours` : `${source.behaviours.length} of ${all} behaviours`;
      return {
        description: `persona: ${which} (Anthropic model-written evaluations, CC BY 4.0)${flipped}`,
        batches: personaBatches(source.behaviours, opts),
      };
    }
    case 'hh-rlhf': {
      const shown = bundledName(hhRlhfFile);
      return {
        description: `hh-rlhf: the ${HH_RLHF_GROUP} test split (Anthropic HH-RLHF, MIT)${flipped}`,
        batches: pairBatches(withReadErrors(jsonlRows(hhRlhfFile, shown), shown), (row, raw) => hhRlhfPair(row, HH_RLHF_GROUP, raw.index, raw.loc), opts),
      };
    }
    case 'file':
      return { description: `file ${source.file}${flipped}`, batches: fileBatches(source.file, source.format, opts) };
  }
}

export interface LoadResult {
  description: string;
  pairs: PreferencePair[];
  /** Rows not turned into pairs, with the reason (also passed to opts.onSkip as they happen). */
  skipped: SkippedRow[];
}

/** All pairs of a source in memory (training, embedding); `data stats` streams instead. */
export async function loadSource(spec: string, opts: SourceOptions = {}): Promise<LoadResult> {
  const skipped: SkippedRow[] = [];
  const stream = streamSource(spec, {
    ...opts,
    onSkip: (s) => {
      skipped.push(s);
      opts.onSkip?.(s);
    },
  });
  const pairs: PreferencePair[] = [];
  for await (const batch of stream.batches) for (const p of batch) pairs.push(p);
  return { description: stream.description, pairs, skipped };
}
