// TensorBoard event files against their specification: CRC-32C test vectors (RFC 3720 B.4), the
// masked CRC of TFRecord framing, one record decoded by hand, and a decoder that reads back every
// record `train --report-to tensorboard` writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/temp.js';
import { linearRun } from './helpers/linear-policy.js';
import { crc32c, eventBytes, maskedCrc32c, tfRecord } from '../src/util/tensorboard-events.js';
import { groupFolderName } from '../src/train/tensorboard.js';

test('crc32c: the RFC 3720 and "123456789" check values', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

/** TFRecord's unmask: subtract the constant, rotate left by 15. */
const unmask = (m: number) => {
  const r = (m - 0xa282ead8) >>> 0;
  return ((r << 15) | (r >>> 17)) >>> 0;
};

test('masked crc: rotate right 15 plus 0xa282ead8, mod 2^32; unmasking gives the CRC back', () => {
  // crc32c("123456789") = 0xe3069283 = 1110 0011 0000 0110 1|001 0010 1000 0011: its low 15 bits move to the top
  const c = 0xe3069283;
  const rotr15 = ((c >>> 15) | (c << 17)) >>> 0;
  assert.equal(rotr15, 0x2507c60d);
  assert.equal(maskedCrc32c(Buffer.from('123456789')), (0x2507c60d + 0xa282ead8) % 2 ** 32);
  for (const s of ['', 'a', 'brain.Event:2'])
    assert.equal(unmask(maskedCrc32c(Buffer.from(s))), crc32c(Buffer.from(s)), JSON.stringify(s));
});

test('a version record decoded by hand', () => {
  const rec = tfRecord(eventBytes({ wallTime: 1, step: 0, fileVersion: 'brain.Event:2' }));
  const data = Buffer.concat([
    Buffer.from([0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]), // field 1 (wall_time), wire type 1: double 1.0 LE
    Buffer.from([0x10, 0x00]), // field 2 (step), varint 0
    Buffer.from([0x1a, 13]), // field 3 (file_version), length 13
    Buffer.from('brain.Event:2'),
  ]);
  const len = Buffer.from([data.length, 0, 0, 0, 0, 0, 0, 0]);
  const u32 = (x: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(x);
    return b;
  };
  assert.deepEqual(rec, Buffer.concat([len, u32(maskedCrc32c(len)), data, u32(maskedCrc32c(data))]));
  assert.equal(rec.length, 8 + 4 + (9 + 2 + 2 + 13) + 4);
});

/** A protobuf message as [field, value] pairs: varints as numbers, fixed64/32 and length-delimited as bytes. */
function fields(buf: Uint8Array): [number, number | Buffer][] {
  const out: [number, number | Buffer][] = [];
  let p = 0;
  const varint = () => {
    let x = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++]!;
      x += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return x;
    }
  };
  while (p < buf.length) {
    const key = varint();
    const wire = key & 7;
    const take = (n: number) => Buffer.from(buf.subarray((p += n) - n, p));
    if (wire === 0) out.push([key >>> 3, varint()]);
    else if (wire === 1) out.push([key >>> 3, take(8)]);
    else if (wire === 5) out.push([key >>> 3, take(4)]);
    else if (wire === 2) out.push([key >>> 3, take(varint())]);
    else throw new Error(`wire type ${wire}`);
  }
  return out;
}

interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Map<string, number>;
}

/** Every record of an events file, checking both masked CRCs and that nothing trails the last record. */
function readEvents(file: string): DecodedEvent[] {
  const buf = fs.readFileSync(file);
  const events: DecodedEvent[] = [];
  let p = 0;
  while (p < buf.length) {
    const n = Number(buf.readBigUInt64LE(p));
    assert.equal(buf.readUInt32LE(p + 8), maskedCrc32c(buf.subarray(p, p + 8)), `length crc at ${p}`);
    const data = buf.subarray(p + 12, p + 12 + n);
    assert.equal(buf.readUInt32LE(p + 12 + n), maskedCrc32c(data), `data crc at ${p}`);
    p += 12 + n + 4;
    const e: DecodedEvent = { wallTime: NaN, step: NaN, scalars: new Map() };
    for (const [f, v] of fields(data)) {
      if (f === 1) e.wallTime = (v as Buffer).readDoubleLE();
      else if (f === 2) e.step = v as number;
      else if (f === 3) e.fileVersion = (v as Buffer).toString('utf8');
      else if (f === 5) {
        for (const [sf, value] of fields(v as Buffer)) {
          assert.equal(sf, 1, 'Summary.value');
          const vf = new Map(fields(value as Buffer));
          e.scalars.set((vf.get(1) as Buffer).toString('utf8'), (vf.get(2) as Buffer).readFloatLE());
        }
      } else assert.fail(`unexpected Event field ${f}`);
    }
    events.push(e);
  }
  assert.equal(p, buf.length);
  return events;
}

test('train --report-to tensorboard: one events file per group whose scalars are metrics.jsonl', async () => {
  const runDir = tempDir('prefdyn-tb-');
  const { lines } = await linearRun(runDir, 3, { report_to: 'tensorboard' });
  const tb = path.join(runDir, 'tensorboard');
  assert.deepEqual(fs.readdirSync(tb).sort(), ['a', 'all', 'b']);
  for (const group of ['a', 'all', 'b']) {
    const files = fs.readdirSync(path.join(tb, group));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^events\.out\.tfevents\.\d+\./);
    const [version, ...events] = readEvents(path.join(tb, group, files[0]!));
    assert.equal(version!.fileVersion, 'brain.Event:2');
    const want = lines.filter((l) => l.group === group);
    assert.equal(events.length, want.length);
    events.forEach((e, j) => {
      const line = want[j]!;
      assert.equal(e.step, line.step);
      assert.ok(Math.abs(e.wallTime - Date.now() / 1000) < 3600, 'wall time in seconds');
      const keys = Object.keys(line).filter((k) => typeof line[k] === 'number' && !['step', 'epoch', 'n'].includes(k));
      assert.deepEqual(
        [...e.scalars.keys()],
        keys.map((k) => `train/${k}`),
      );
      // simple_value is a float: the line's number rounded to float32
      for (const k of keys) assert.equal(e.scalars.get(`train/${k}`), Math.fround(line[k] as number), k);
    });
  }
  // the default writes no TensorBoard folder
  const plain = tempDir('prefdyn-tb-');
  await linearRun(plain, 1);
  assert.equal(fs.existsSync(path.join(plain, 'tensorboard')), false);
});

test('group folder names: one-to-one, and never a path', () => {
  assert.equal(groupFolderName('agreeableness'), 'agreeableness');
  assert.equal(groupFolderName('..'), '%2E%2E');
  assert.equal(groupFolderName('a/b c'), 'a%2Fb%20c');
  assert.equal(groupFolderName('a%2Fb'), 'a%252Fb');
  assert.equal(groupFolderName('é'), '%C3%A9');
});
