// Reads the embeddings file of architecture.md contract 3, one group at a time: `<name>.safetensors`
// (tensor "embeddings" [N, d] F32; F16 and BF16 are read too, e.g. from a GPU script, and converted to
// F32 exactly) + `<name>.rows.jsonl` ({"id", "group", "label", "prompt"?} per row).
// Only one group's rows are in memory at once, in one buffer reused from group to group, so 133k x 4096
// floats stream through a few MB without a fresh allocation (and its page faults) per group.
// A row holding NaN or +-Infinity is refused when its group is read (it would rank its group first), or,
// for a caller that reads every value anyway (analyze's passes), by that caller's pass (readGroup's `check`).
import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';
import { SafetensorsFile } from '../model/safetensors.js';
import { uninitialisedFloats } from '../tensor/tensor.js';
import { decodeHalf, type HalfDtype } from '../tensor/half.js';
import type { GroupRows } from './group-stats.js';

export const EMBEDDINGS_TENSOR = 'embeddings';

export interface RowInfo {
  id: string;
  group: string;
  label: 1 | -1;
  prompt?: string;
}

/** Anything that yields a group's rows: the file below, or arrays in memory (tests, `--model`). */
export interface EmbeddingSource {
  readonly d: number;
  readonly rows: readonly RowInfo[];
  /** Groups in order of first appearance. */
  readonly groups: readonly string[];
  /** Where the embeddings were taken (model/embed.ts's EmbedPosition), as the file's metadata says; null when it does not. */
  readonly embeddingPosition: string | null;
  /**
   * One group's rows. x may be a view of a buffer the source reuses: valid until the next readGroup.
   * check = true (default): a NaN or infinite value is refused here (refuseNonFinite). check = false: the
   * caller promises a pass of its own over every value and calls refuseNonFinite when it sees one.
   */
  readGroup(group: string, check?: boolean): GroupRows;
  /** Throws the UserError naming the first NaN or infinite value of `rows` (from readGroup), if there is one. */
  refuseNonFinite(rows: GroupRows): void;
  close(): void;
}

/** `name` may be given with or without the `.safetensors` suffix. */
export function embeddingsPaths(name: string): { tensors: string; rows: string } {
  const base = name.endsWith('.safetensors') ? name.slice(0, -'.safetensors'.length) : name;
  return { tensors: `${base}.safetensors`, rows: `${base}.rows.jsonl` };
}

export function parseRowsJsonl(file: string, text: string): RowInfo[] {
  const rows: RowInfo[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new UserError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw new UserError(`${where}: expected an object {"id", "group", "label"}`);
    const { id, group, label, prompt } = obj as Record<string, unknown>;
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new UserError(`${where}: "id" must be a string or number, got ${JSON.stringify(id)}`);
    if (typeof group !== 'string' || group === '')
      throw new UserError(`${where}: "group" must be a non-empty string, got ${JSON.stringify(group)}`);
    if (label !== 1 && label !== -1)
      throw new UserError(`${where}: "label" must be 1 or -1, got ${JSON.stringify(label)}`);
    if (prompt !== undefined && typeof prompt !== 'string')
      throw new UserError(`${where}: "prompt" must be a string when present, got ${JSON.stringify(prompt)}`);
    rows.push(prompt === undefined ? { id: String(id), group, label } : { id: String(id), group, label, prompt });
  }
  return rows;
}

export function groupsInOrder(rows: readonly RowInfo[]): string[] {
  return [...new Set(rows.map((r) => r.group))];
}

export function openEmbeddingsFile(name: string): EmbeddingSource {
  const paths = embeddingsPaths(name);
  if (!fs.existsSync(paths.rows))
    throw new UserError(`${paths.rows}: no such file (an embeddings file is ${paths.tensors} + ${paths.rows})`);
  const rows = parseRowsJsonl(paths.rows, fs.readFileSync(paths.rows, 'utf8'));
  const file = SafetensorsFile.open(paths.tensors);
  try {
    const info = file.info(EMBEDDINGS_TENSOR);
    const dtype = info.dtype;
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16')
      throw new UserError(
        `${paths.tensors}: tensor "${EMBEDDINGS_TENSOR}" has dtype ${dtype}; expected F32 (or F16, BF16)`,
      );
    if (info.shape.length !== 2)
      throw new UserError(
        `${paths.tensors}: tensor "${EMBEDDINGS_TENSOR}" has shape [${info.shape.join(', ')}]; expected [N, d]`,
      );
    const [n, d] = info.shape as [number, number];
    const position = positionOf(file.metadata);
    if (n !== rows.length)
      throw new UserError(
        `${paths.tensors}: tensor "${EMBEDDINGS_TENSOR}" has ${n} rows but ${paths.rows} has ${rows.length} lines; they must match row for row`,
      );
    if (n === 0 || d === 0)
      throw new UserError(`${paths.tensors}: tensor "${EMBEDDINGS_TENSOR}" is empty ([${n}, ${d}])`);
    // Row reads go straight to the file: data section start = 8 + header length (safetensors layout).
    const fd = fs.openSync(paths.tensors, 'r');
    const lengthBytes = Buffer.alloc(8);
    fs.readSync(fd, lengthBytes, 0, 8, 0);
    const dataStart = 8 + Number(lengthBytes.readBigUInt64LE(0)) + info.begin;
    file.close();
    return new FileSource(paths.tensors, fd, dataStart, d, rows, position, dtype);
  } catch (err) {
    file.close();
    throw err;
  }
}

/**
 * The metadata's embedding_position; files written before it existed carry only `position`, whose
 * "prompt" was the newline position (prefdyn embedded nothing else then).
 */
function positionOf(metadata: Record<string, string>): string | null {
  if (metadata.embedding_position !== undefined) return metadata.embedding_position;
  if (metadata.position === 'prompt') return 'newline';
  return metadata.position === 'response' ? 'response' : null;
}

class FileSource implements EmbeddingSource {
  readonly groups: string[];
  private readonly indices = new Map<string, number[]>();
  /** The rows of the last group read: [>= rows, d], grown when a larger group comes. */
  private buffer: Float32Array = new Float32Array(0);

  constructor(
    private readonly path: string,
    private readonly fd: number,
    private readonly dataStart: number,
    readonly d: number,
    readonly rows: readonly RowInfo[],
    readonly embeddingPosition: string | null,
    private readonly dtype: 'F32' | HalfDtype,
  ) {
    this.groups = groupsInOrder(rows);
    rows.forEach((r, i) => {
      const list = this.indices.get(r.group);
      if (list) list.push(i);
      else this.indices.set(r.group, [i]);
    });
  }

  readGroup(group: string, check = true): GroupRows {
    const idx = this.indices.get(group);
    if (!idx) throw new Error(`readGroup: no group "${group}"`);
    const d = this.d;
    // Every byte of x is written below (read from the file, or decoded from 16-bit rows), so the buffer
    // needs no zero fill.
    if (this.buffer.length < idx.length * d) this.buffer = uninitialisedFloats(idx.length * d);
    const x = this.buffer.subarray(0, idx.length * d);
    // F32 rows are read straight into x; 16-bit rows into their own buffer, then decoded.
    const half = this.dtype === 'F32' ? undefined : new Uint16Array(idx.length * d);
    const bytes = half ? new Uint8Array(half.buffer) : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    const rowBytes = d * (half ? 2 : 4);
    // Contiguous runs of rows are read in one call.
    for (let start = 0; start < idx.length;) {
      let end = start + 1;
      while (end < idx.length && idx[end] === idx[end - 1]! + 1) end++;
      const length = (end - start) * rowBytes;
      const got = readFully(this.fd, bytes, start * rowBytes, length, this.dataStart + idx[start]! * rowBytes);
      if (got !== length) throw new UserError(`${this.path}: file ended inside row ${idx[start]} (truncated?)`);
      start = end;
    }
    if (half) decodeHalf(this.dtype as HalfDtype, half, x);
    const labels = Int8Array.from(idx, (i) => this.rows[i]!.label);
    const rows = { group, x, labels, d };
    if (check) this.refuseNonFinite(rows);
    return rows;
  }

  refuseNonFinite(rows: GroupRows): void {
    refuseNonFinite(this.path, rows.x, this.d, this.indices.get(rows.group)!, this.rows);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** A UserError naming the first non-finite value of x: [idx.length, d], the rows `idx` of `where`. */
function refuseNonFinite(where: string, x: Float32Array, d: number, idx: readonly number[], rows: readonly RowInfo[]) {
  const bad = firstNonFinite(x);
  if (bad < 0) return;
  const i = idx[Math.floor(bad / d)]!;
  const row = rows[i]!;
  throw new UserError(
    `${where}: row ${i} (id ${JSON.stringify(row.id)}, group ${JSON.stringify(row.group)}) is ${x[bad]} at dimension ${bad % d}; ` +
      'analyze needs finite embeddings',
  );
}

function readFully(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** An in-memory source over x: [N, d] (tests, and embeddings computed in this process). */
export function memorySource(
  x: Float32Array,
  d: number,
  rows: readonly RowInfo[],
  embeddingPosition: string | null = null,
): EmbeddingSource {
  if (x.length !== rows.length * d) throw new Error(`memorySource: ${x.length} values for ${rows.length} rows of ${d}`);
  const groups = groupsInOrder(rows);
  const indices = (group: string) => rows.flatMap((r, i) => (r.group === group ? [i] : []));
  const refuse = (read: GroupRows) => refuseNonFinite('embeddings', read.x, d, indices(read.group), rows);
  return {
    d,
    rows,
    groups,
    embeddingPosition,
    readGroup(group: string, check = true): GroupRows {
      const idx = indices(group);
      const out = new Float32Array(idx.length * d);
      idx.forEach((i, r) => out.set(x.subarray(i * d, (i + 1) * d), r * d));
      const read = { group, x: out, labels: Int8Array.from(idx, (i) => rows[i]!.label), d };
      if (check) refuse(read);
      return read;
    },
    refuseNonFinite: refuse,
    close() {},
  };
}
