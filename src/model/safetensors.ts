// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
// JSON {"__metadata__"?: {str: str}, name: {dtype, shape, data_offsets: [begin, end]}, ...}, then the
// data section; offsets are relative to its start. Opening reads only the header, and each tensor is
// read on demand at its offset, so a 7B checkpoint's index costs a few kilobytes of reading.
// Checkpoints are single files (model.safetensors) or shards listed by model.safetensors.index.json.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/json-file.js';
import {
  bytesFromFloats,
  dtypeByteSize,
  FLOAT_DTYPES,
  floatsFromBytes,
  isDtype,
  isFloatDtype,
  type Dtype,
  type WriteDtype,
} from './dtype.js';
import { halfToF32, isHalfStorage, type HalfStorage } from '../tensor/half.js';

export type { Dtype } from './dtype.js';

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range [begin, end) within the data section. */
  begin: number;
  end: number;
}

/** The reference implementation refuses headers above 100 MB; so do we (a corrupt length is likely). */
const MAX_HEADER_BYTES = 100_000_000;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isShape(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** A list for messages: [2, 3]. */
function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function readExactly(fd: number, file: string, what: string, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) {
      throw new UserError(
        `${file}: ${what}: file ended after ${position + done} bytes, expected ${position + length} (truncated?)`,
      );
    }
    done += n;
  }
  return buf;
}

export class SafetensorsFile {
  readonly metadata: Record<string, string>;
  private readonly tensors: Map<string, TensorInfo>;
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly dataStart: number,
    tensors: Map<string, TensorInfo>,
    metadata: Record<string, string>,
  ) {
    this.fd = fd;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens `file` and validates its header; tensor bytes are read later, by readF32. */
  static open(file: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(
        code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot open: ${(err as Error).message}`,
      );
    }
    try {
      const { tensors, metadata, dataStart } = parseHeader(fd, file);
      return new SafetensorsFile(file, fd, dataStart, tensors, metadata);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** Tensor names, sorted. */
  names(): string[] {
    return [...this.tensors.keys()].sort();
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info)
      throw new UserError(`${this.path}: no tensor named "${name}" (the file holds ${this.tensors.size} tensors)`);
    return info;
  }

  /** The tensor's raw little-endian bytes. */
  readBytes(name: string): Uint8Array {
    const info = this.info(name);
    if (this.fd === undefined) throw new Error(`${this.path}: read of "${name}" after close()`);
    return readExactly(this.fd, this.path, `tensor "${name}"`, info.end - info.begin, this.dataStart + info.begin);
  }

  /** The tensor as Float32 (F16, BF16 and F64 converted); integer dtypes are refused. */
  readF32(name: string): Float32Array {
    const info = this.info(name);
    if (!isFloatDtype(info.dtype)) {
      throw new UserError(
        `${this.path}: tensor "${name}" has dtype ${info.dtype}; expected a float dtype (${FLOAT_DTYPES.join(', ')})`,
      );
    }
    return floatsFromBytes(info.dtype, this.readBytes(name), elementCount(info.shape));
  }

  /** The tensor in the type it is stored in when that is 16-bit (F16/BF16 bits, no conversion), else as readF32. */
  readStored(name: string): Float32Array | HalfStorage {
    const { dtype } = this.info(name);
    if (dtype !== 'F16' && dtype !== 'BF16') return this.readF32(name);
    const bytes = this.readBytes(name); // a fresh buffer at offset 0: aligned
    return { dtype, bits: new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) };
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function parseHeader(
  fd: number,
  file: string,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string>; dataStart: number } {
  const size = fs.fstatSync(fd).size;
  if (size < 8)
    throw new UserError(`${file}: not a safetensors file: ${size} bytes, less than the 8-byte header length`);
  const n = Number(Buffer.from(readExactly(fd, file, 'header length', 8, 0)).readBigUInt64LE(0));
  if (n > size - 8) {
    throw new UserError(
      `${file}: header length ${n} exceeds the ${size - 8} bytes after it (truncated, or not a safetensors file)`,
    );
  }
  if (n > MAX_HEADER_BYTES)
    throw new UserError(`${file}: header length ${n} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(readExactly(fd, file, 'header', n, 8)).toString('utf8'));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${file}: header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new UserError(`${file}: header must be a JSON object of tensors`);
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw new UserError(`${file}: __metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string')
          throw new UserError(`${file}: __metadata__ "${k}" must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.set(name, tensorInfo(file, name, entry));
  }
  checkLayout(file, [...tensors.values()], size - 8 - n);
  return { tensors, metadata, dataStart: 8 + n };
}

function tensorInfo(file: string, name: string, entry: unknown): TensorInfo {
  const where = `${file}: tensor "${name}"`;
  if (typeof entry !== 'object' || entry === null)
    throw new UserError(`${where}: header entry must be an object {dtype, shape, data_offsets}`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isDtype(dtype)) throw new UserError(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!isShape(shape))
    throw new UserError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new UserError(
      `${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const want = elementCount(shape) * dtypeByteSize(dtype);
  if (end - begin !== want) {
    throw new UserError(
      `${where}: shape ${showShape(shape)} of ${dtype} needs ${want} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape, begin, end };
}

/** The tensors must tile the data section exactly: no overlap, no gap, nothing past its end. */
function checkLayout(file: string, infos: TensorInfo[], dataLength: number): void {
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: TensorInfo | undefined;
  for (const t of sorted) {
    if (t.begin < pos) {
      throw new UserError(
        `${file}: tensor "${t.name}" bytes [${t.begin}, ${t.end}) overlap tensor "${prev!.name}" [${prev!.begin}, ${prev!.end})`,
      );
    }
    if (t.begin > pos) {
      throw new UserError(`${file}: data bytes [${pos}, ${t.begin}) before tensor "${t.name}" belong to no tensor`);
    }
    if (t.end > dataLength) {
      throw new UserError(
        `${file}: tensor "${t.name}" ends at data byte ${t.end}, but the file holds only ${dataLength} data bytes (truncated)`,
      );
    }
    pos = t.end;
    prev = t;
  }
  if (pos < dataLength)
    throw new UserError(`${file}: ${dataLength - pos} data bytes after the last tensor belong to no tensor`);
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** F32 values, or 16-bit storage (written as it is when `dtype` is its own, else converted). */
  data: Float32Array | HalfStorage;
  /** Storage dtype; default F32. */
  dtype?: WriteDtype;
}

function lengthOf(data: Float32Array | HalfStorage): number {
  return isHalfStorage(data) ? data.bits.length : data.length;
}

/** The bytes of `data` stored as `dtype`: 16-bit storage of that dtype as it is, else through F32. */
function bytesOf(dtype: WriteDtype, data: Float32Array | HalfStorage): Uint8Array {
  if (!isHalfStorage(data)) return bytesFromFloats(dtype, data);
  if (data.dtype === dtype) return new Uint8Array(data.bits.buffer, data.bits.byteOffset, data.bits.byteLength);
  return bytesFromFloats(dtype, halfToF32(data));
}

// The reference writer orders tensors by dtype (larger alignment first), then by name.
const WRITE_ORDER: Record<WriteDtype, number> = { F32: 0, BF16: 1, F16: 2 };

/**
 * Writes a safetensors file atomically (temp file + rename), laid out as the reference writer does:
 * header padded with spaces to a multiple of 8 bytes, tensors ordered by dtype then name.
 */
export function writeSafetensors(file: string, tensors: TensorToWrite[], metadata: Record<string, string> = {}): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '' || t.name === '__metadata__')
      throw new Error(`writeSafetensors ${file}: invalid tensor name "${t.name}"`);
    if (seen.has(t.name)) throw new Error(`writeSafetensors ${file}: tensor "${t.name}" given twice`);
    seen.add(t.name);
    if (!isShape(t.shape) || elementCount(t.shape) !== lengthOf(t.data)) {
      throw new Error(
        `writeSafetensors ${file}: tensor "${t.name}" has shape ${JSON.stringify(t.shape)} but ${lengthOf(t.data)} values`,
      );
    }
  }
  const ordered = [...tensors].sort(
    (a, b) =>
      WRITE_ORDER[a.dtype ?? 'F32'] - WRITE_ORDER[b.dtype ?? 'F32'] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const t of ordered) {
    const dtype = t.dtype ?? 'F32';
    const bytes = bytesOf(dtype, t.data);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  writeFileAtomic(file, [prefix, headerBytes, ...blobs]);
}

/** A checkpoint's tensors, single-file or sharded, as one lookup. */
export interface CheckpointTensors {
  /** The safetensors files, in the order listed. */
  readonly files: string[];
  names(): string[];
  has(name: string): boolean;
  /** Header entry of `name` and the file (shard) holding it. */
  info(name: string): TensorInfo & { file: string };
  readF32(name: string): Float32Array;
  /** As SafetensorsFile.readStored: F16/BF16 kept 16-bit. */
  readStored(name: string): Float32Array | HalfStorage;
  close(): void;
}

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** Opens dir/model.safetensors, or the shards named by dir/model.safetensors.index.json (headers only). */
export function openCheckpointTensors(dir: string): CheckpointTensors {
  const single = path.join(dir, SINGLE_FILE);
  if (fs.existsSync(single)) return lookupOver([SafetensorsFile.open(single)], undefined);
  const indexPath = path.join(dir, INDEX_FILE);
  if (!fs.existsSync(indexPath)) {
    const pickled = pickledCheckpoint(dir);
    if (pickled) {
      throw new UserError(
        `${path.join(dir, pickled)}: PyTorch pickle checkpoints are not read (unsafe to load); convert the folder to safetensors: python -c "from transformers import AutoModelForCausalLM as M; M.from_pretrained('${dir}').save_pretrained('${dir}', safe_serialization=True)"`,
      );
    }
    throw new UserError(`${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}`);
  }
  const weightMap = readWeightMap(indexPath);
  const shardNames = [...new Set(weightMap.values())];
  const shards: SafetensorsFile[] = [];
  try {
    for (const shard of shardNames) shards.push(SafetensorsFile.open(path.join(dir, shard)));
  } catch (err) {
    for (const s of shards) s.close();
    throw err;
  }
  const byShard = new Map(shardNames.map((s, i) => [s, shards[i]!]));
  const where = new Map<string, SafetensorsFile>();
  for (const [name, shard] of weightMap) {
    const f = byShard.get(shard)!;
    if (!f.has(name)) {
      for (const s of shards) s.close();
      throw new UserError(
        `${indexPath}: weight_map puts tensor "${name}" in ${shard}, but ${f.path} has no such tensor`,
      );
    }
    where.set(name, f);
  }
  return lookupOver(shards, where);
}

/** The first PyTorch pickle checkpoint in `dir` (pytorch_model.bin, its shard index, *.pt, *.pth), if any. */
function pickledCheckpoint(dir: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return undefined;
  }
  return names.find((n) => /^pytorch_model.*\.bin(\.index\.json)?$/.test(n) || /\.(pt|pth)$/.test(n));
}

function readWeightMap(indexPath: string): Map<string, string> {
  const index = readJsonFile(indexPath);
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new UserError(`${indexPath}: missing "weight_map" (an object from tensor name to shard file)`);
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard === '' || path.basename(shard) !== shard) {
      throw new UserError(
        `${indexPath}: weight_map["${name}"] must be a shard file name in the same folder, got ${JSON.stringify(shard)}`,
      );
    }
    out.set(name, shard);
  }
  return out;
}

/** One lookup over `files`; `where` maps each name to its file (undefined: a single file). */
function lookupOver(files: SafetensorsFile[], where: Map<string, SafetensorsFile> | undefined): CheckpointTensors {
  const only = files[0]!;
  const fileOf = (name: string): SafetensorsFile => {
    const f = where ? where.get(name) : only.has(name) ? only : undefined;
    if (!f) throw new UserError(`${where ? path.dirname(only.path) : only.path}: no tensor named "${name}"`);
    return f;
  };
  return {
    files: files.map((f) => f.path),
    names: () => (where ? [...where.keys()].sort() : only.names()),
    has: (name) => (where ? where.has(name) : only.has(name)),
    info: (name) => ({ ...fileOf(name).info(name), file: fileOf(name).path }),
    readF32: (name) => fileOf(name).readF32(name),
    readStored: (name) => fileOf(name).readStored(name),
    close: () => files.forEach((f) => f.close()),
  };
}
