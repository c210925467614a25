import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../src/model/dtype.js';
import { openCheckpointTensors, SafetensorsFile, writeSafetensors } from '../src/model/safetensors.js';
import { tempDir } from './helpers/temp.js';

/** A safetensors file from a literal header and data bytes, for malformed inputs. */
function rawFile(file: string, header: unknown, data: Uint8Array, headerLength?: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLength ?? json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

test('F16 and BF16 encode known values, rounding to nearest even', () => {
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(-2), 0xc000);
  assert.equal(f32ToBf16Bits(-2), 0xc000);
  assert.equal(f32ToF16Bits(65504), 0x7bff); // largest finite F16
  assert.equal(f32ToF16Bits(65520), 0x7c00); // halfway to the next binade: ties to even = infinity
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // tie between 0 and 2^-24: even is 0
  assert.equal(f32ToF16Bits(1.5 * 2 ** -25), 0x0001);
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie: 1.0 is even
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie: 1+2^-10 is odd, round up
  assert.equal(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above the tie
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie: even
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20), 0x3f81);
  assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))));
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  assert.equal(f16BitsToF32(0x3555), 0.333251953125);
  assert.equal(bf16BitsToF32(0x3eab), 0.333984375);
});

test('every finite F16 and BF16 value survives decode then encode', () => {
  for (let bits = 0; bits < 65536; bits++) {
    const h = f16BitsToF32(bits);
    if (!Number.isNaN(h)) assert.equal(f32ToF16Bits(h), bits, `F16 0x${bits.toString(16)}`);
    const b = bf16BitsToF32(bits);
    if (!Number.isNaN(b)) assert.equal(f32ToBf16Bits(b), bits, `BF16 0x${bits.toString(16)}`);
  }
});

test('writeSafetensors writes the reference layout byte for byte', () => {
  const file = path.join(tempDir('prefdyn-st-'), 'a.safetensors');
  writeSafetensors(file, [{ name: 'w', shape: [2], data: new Float32Array([1, -2]) }], { format: 'pt' });
  const json = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  const data = Buffer.from(new Float32Array([1, -2]).buffer);
  assert.deepEqual(fs.readFileSync(file), Buffer.concat([len, Buffer.from(padded), data]));
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['a.safetensors']); // no temp file left behind
});

test('F32, F16 and BF16 round trip through a file, ordered by dtype then name', () => {
  const file = path.join(tempDir('prefdyn-st-'), 'm.safetensors');
  const values = new Float32Array([1, -0.5, 0.1, 3e-5, 65504, -7.25]);
  writeSafetensors(
    file,
    [
      { name: 'c.half', shape: [2, 3], data: values, dtype: 'F16' },
      { name: 'b.bf', shape: [3, 2], data: values, dtype: 'BF16' },
      { name: 'a.full', shape: [6], data: values },
      { name: 'z.full', shape: [1, 1], data: new Float32Array([42]) },
    ],
    { note: 'x' },
  );
  const f = SafetensorsFile.open(file);
  try {
    assert.deepEqual(f.names(), ['a.full', 'b.bf', 'c.half', 'z.full']);
    assert.deepEqual(f.metadata, { note: 'x' });
    assert.deepEqual(f.info('a.full'), { name: 'a.full', dtype: 'F32', shape: [6], begin: 0, end: 24 });
    assert.deepEqual(f.info('z.full'), { name: 'z.full', dtype: 'F32', shape: [1, 1], begin: 24, end: 28 });
    assert.deepEqual(f.info('b.bf'), { name: 'b.bf', dtype: 'BF16', shape: [3, 2], begin: 28, end: 40 });
    assert.deepEqual(f.info('c.half'), { name: 'c.half', dtype: 'F16', shape: [2, 3], begin: 40, end: 52 });
    assert.deepEqual(f.readF32('a.full'), values);
    assert.deepEqual(
      f.readF32('c.half'),
      Float32Array.from(values, (v) => f16BitsToF32(f32ToF16Bits(v))),
    );
    assert.deepEqual(
      f.readF32('b.bf'),
      Float32Array.from(values, (v) => bf16BitsToF32(f32ToBf16Bits(v))),
    );
    assert.deepEqual([...f.readBytes('b.bf').subarray(0, 2)], [0x80, 0x3f]); // BF16 1.0, little-endian
    assert.deepEqual([...f.readBytes('c.half').subarray(0, 2)], [0x00, 0x3c]); // F16 1.0
    assert.equal(f.has('nope'), false);
  } finally {
    f.close();
  }
});

test('F64 tensors are read as F32; integer tensors are refused by readF32', () => {
  const file = path.join(tempDir('prefdyn-st-'), 'x.safetensors');
  const data = new Uint8Array(new Float64Array([0.5, -1.25]).buffer);
  const ints = new Uint8Array(16);
  rawFile(
    file,
    {
      d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      i: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
    },
    Buffer.concat([data, ints]),
  );
  const f = SafetensorsFile.open(file);
  assert.deepEqual(f.readF32('d'), new Float32Array([0.5, -1.25]));
  assert.throws(() => f.readF32('i'), {
    message: `${file}: tensor "i" has dtype I64; expected a float dtype (F32, F16, BF16, F64)`,
  });
  assert.throws(() => f.info('q'), { message: `${file}: no tensor named "q" (the file holds 2 tensors)` });
  f.close();
});

test('malformed files are refused with messages naming the file and tensor', () => {
  const dir = tempDir('prefdyn-st-');
  const f8 = new Uint8Array(8);
  const cases: [string, () => string, string][] = [
    [
      'short',
      () => {
        fs.writeFileSync(path.join(dir, 'short'), 'abc');
        return path.join(dir, 'short');
      },
      'not a safetensors file: 3 bytes, less than the 8-byte header length',
    ],
    [
      'header past end',
      () => rawFile(path.join(dir, 'h'), { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f8, 1000),
      'header length 1000 exceeds the 62 bytes after it (truncated, or not a safetensors file)',
    ],
    [
      'bad json',
      () => {
        const p = path.join(dir, 'j');
        const b = Buffer.alloc(10);
        b.writeBigUInt64LE(2n);
        b.write('{x', 8);
        fs.writeFileSync(p, b);
        return p;
      },
      'header is not valid JSON (',
    ],
    [
      'wrong byte count',
      () => rawFile(path.join(dir, 'w'), { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f8),
      'tensor "a": shape [3] of F32 needs 12 bytes, but data_offsets [0, 8] hold 8',
    ],
    [
      'unknown dtype',
      () => rawFile(path.join(dir, 'u'), { a: { dtype: 'F13', shape: [2], data_offsets: [0, 8] } }, f8),
      'tensor "a": unknown dtype "F13"',
    ],
    [
      'bad shape',
      () => rawFile(path.join(dir, 's'), { a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f8),
      'tensor "a": shape must be a list of non-negative integers, got [-2]',
    ],
    [
      'overlap',
      () =>
        rawFile(
          path.join(dir, 'o'),
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          },
          f8,
        ),
      'tensor "b" bytes [4, 8) overlap tensor "a" [0, 8)',
    ],
    [
      'gap',
      () => rawFile(path.join(dir, 'g'), { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f8),
      'data bytes [0, 4) before tensor "a" belong to no tensor',
    ],
    [
      'trailing bytes',
      () => rawFile(path.join(dir, 't'), { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f8),
      '4 data bytes after the last tensor belong to no tensor',
    ],
    [
      'truncated',
      () =>
        rawFile(
          path.join(dir, 'tr'),
          {
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          f8,
        ),
      'tensor "b" ends at data byte 12, but the file holds only 8 data bytes (truncated)',
    ],
    [
      'metadata not strings',
      () => rawFile(path.join(dir, 'm'), { __metadata__: { n: 1 } }, new Uint8Array(0)),
      '__metadata__ "n" must be a string, got 1',
    ],
  ];
  for (const [label, make, message] of cases) {
    const file = make();
    assert.throws(
      () => SafetensorsFile.open(file),
      (err: Error) => {
        assert.ok(err.message.startsWith(`${file}: ${message}`), `${label}: got "${err.message}"`);
        return true;
      },
    );
  }
  assert.throws(() => SafetensorsFile.open(path.join(dir, 'absent')), {
    message: `${path.join(dir, 'absent')}: no such file`,
  });
});

test('a truncated copy of a written file is refused, naming the cut tensor', () => {
  const dir = tempDir('prefdyn-st-');
  const file = path.join(dir, 'full.safetensors');
  writeSafetensors(file, [
    { name: 'a', shape: [4], data: new Float32Array(4) },
    { name: 'b', shape: [4], data: new Float32Array(4) },
  ]);
  const bytes = fs.readFileSync(file);
  const cut = path.join(dir, 'cut.safetensors');
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
  assert.throws(() => SafetensorsFile.open(cut), {
    message: `${cut}: tensor "b" ends at data byte 32, but the file holds only 29 data bytes (truncated)`,
  });
});

test('writeSafetensors refuses a shape that does not match the data and leaves no file', () => {
  const dir = tempDir('prefdyn-st-');
  const file = path.join(dir, 'bad.safetensors');
  assert.throws(() => writeSafetensors(file, [{ name: 'a', shape: [2, 2], data: new Float32Array(3) }]), {
    message: `writeSafetensors ${file}: tensor "a" has shape [2,2] but 3 values`,
  });
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('sharded checkpoints read as one lookup; errors name the index and the shard', () => {
  const dir = tempDir('prefdyn-st-');
  writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), [
    { name: 'a', shape: [2], data: new Float32Array([1, 2]) },
  ]);
  writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), [
    { name: 'b', shape: [1], data: new Float32Array([3]), dtype: 'BF16' },
  ]);
  const index = path.join(dir, 'model.safetensors.index.json');
  const weightMap = { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' };
  fs.writeFileSync(index, JSON.stringify({ metadata: { total_size: 10 }, weight_map: weightMap }));
  const t = openCheckpointTensors(dir);
  assert.deepEqual(t.names(), ['a', 'b']);
  assert.equal(t.info('b').file, path.join(dir, 'model-00002-of-00002.safetensors'));
  assert.equal(t.info('b').dtype, 'BF16');
  assert.deepEqual(t.readF32('a'), new Float32Array([1, 2]));
  assert.deepEqual(t.readF32('b'), new Float32Array([3]));
  assert.throws(() => t.readF32('c'), { message: `${dir}: no tensor named "c"` });
  t.close();

  fs.writeFileSync(index, JSON.stringify({ weight_map: { ...weightMap, c: 'model-00001-of-00002.safetensors' } }));
  assert.throws(() => openCheckpointTensors(dir), {
    message: `${index}: weight_map puts tensor "c" in model-00001-of-00002.safetensors, but ${path.join(dir, 'model-00001-of-00002.safetensors')} has no such tensor`,
  });
  fs.writeFileSync(index, JSON.stringify({ weight_map: { ...weightMap, c: 'model-00003-of-00003.safetensors' } }));
  assert.throws(() => openCheckpointTensors(dir), {
    message: `${path.join(dir, 'model-00003-of-00003.safetensors')}: no such file`,
  });
  fs.writeFileSync(index, JSON.stringify({ weights: {} }));
  assert.throws(() => openCheckpointTensors(dir), {
    message: `${index}: missing "weight_map" (an object from tensor name to shard file)`,
  });
  fs.rmSync(index);
  assert.throws(() => openCheckpointTensors(dir), {
    message: `${dir}: no model.safetensors or model.safetensors.index.json`,
  });
});

test('a single-file checkpoint takes precedence and reports its file', () => {
  const dir = tempDir('prefdyn-st-');
  writeSafetensors(path.join(dir, 'model.safetensors'), [
    { name: 'w', shape: [1], data: new Float32Array([5]), dtype: 'F16' },
  ]);
  const t = openCheckpointTensors(dir);
  assert.deepEqual(t.files, [path.join(dir, 'model.safetensors')]);
  assert.deepEqual(t.info('w'), {
    name: 'w',
    dtype: 'F16',
    shape: [1],
    begin: 0,
    end: 2,
    file: path.join(dir, 'model.safetensors'),
  });
  assert.deepEqual(t.readF32('w'), new Float32Array([5]));
  t.close();
});
