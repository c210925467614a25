// TensorBoard event files, written without TensorFlow: a TFRecord stream of Event protobufs.
// Record framing (tensorflow/core/lib/io/record_writer.cc):
//   uint64 length (little-endian) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
// masked_crc32c(x) = rotr15(crc32c(x)) + 0xa282ead8 (mod 2^32); crc32c is CRC-32 with the Castagnoli
// polynomial (reflected 0x82f63b78). Messages (tensorflow/core/util/event.proto, summary.proto):
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// The first record of a file is an Event with file_version "brain.Event:2"; TensorBoard reads files
// whose name contains "tfevents".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `bytes`, as an unsigned 32-bit integer. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The TFRecord checksum: the CRC rotated right by 15 bits plus a constant, mod 2^32. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its masked CRC, the data, the data's masked CRC. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Protobuf base-128 varint of a non-negative integer below 2^53. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2): key, length, bytes. */
function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

function doubleField(field: number, x: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return [(field << 3) | 1, ...b];
}

function floatField(field: number, x: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [(field << 3) | 5, ...b];
}

/** Event { wall_time, step, file_version } or Event { wall_time, step, summary { value: [tag, simple_value]... } }. */
export function eventBytes(
  e: { wallTime: number; step: number } & ({ fileVersion: string } | { scalars: [string, number][] }),
): Uint8Array {
  const out = [...doubleField(1, e.wallTime), ...varint((2 << 3) | 0), ...varint(e.step)];
  if ('fileVersion' in e) out.push(...lengthDelimited(3, Buffer.from(e.fileVersion, 'utf8')));
  else {
    const values = e.scalars.flatMap(([tag, x]) =>
      lengthDelimited(1, Uint8Array.from([...lengthDelimited(1, Buffer.from(tag, 'utf8')), ...floatField(2, x)])),
    );
    out.push(...lengthDelimited(5, Uint8Array.from(values)));
  }
  return Uint8Array.from(out);
}

/** An events file being written: each call appends records and hands them to the OS at once (live viewing). */
export class EventFileWriter {
  readonly file: string;
  private readonly fd: number;

  /** Creates `dir` and a new events.out.tfevents.<seconds>.<host> file in it, starting with the version event. */
  constructor(dir: string, now = Date.now() / 1000) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now)}.${os.hostname()}`);
    this.fd = fs.openSync(this.file, 'a');
    fs.writeSync(this.fd, tfRecord(eventBytes({ wallTime: now, step: 0, fileVersion: 'brain.Event:2' })));
  }

  /** One Event holding every scalar of `step`. */
  scalars(step: number, scalars: [string, number][], wallTime = Date.now() / 1000): void {
    fs.writeSync(this.fd, tfRecord(eventBytes({ wallTime, step, scalars })));
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
