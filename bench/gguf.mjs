// A minimal GGUF v3 writer (llama.cpp's model format), enough for the benchmark's random Llama models:
// header, typed metadata, tensor infos, then the tensor data, each aligned to 32 bytes. Tensors are
// streamed one at a time (a 7B model does not fit in memory twice). Format: ggml's docs/gguf.md.
//   const w = openGguf(file, metadata, [{ name, shape: [rows, cols], type: 'BF16' }, ...]);
//   w.write(name, bytes) in the declared order; w.close().
// Shapes are given as PyTorch/safetensors write them ([out, in]); GGUF lists dimensions innermost first.
import fs from 'node:fs';

const ALIGNMENT = 32;
export const GGML_TYPES = { F32: 0, F16: 1, BF16: 30 };
const BYTES = { F32: 4, F16: 2, BF16: 2 };
// gguf_type of metadata values
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 };

class Bytes {
  parts = [];
  u32(v) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
  }
  i32(v) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.parts.push(b);
  }
  u64(v) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
  }
  f32(v) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.parts.push(b);
  }
  str(s) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.parts.push(b);
  }
  buffer() {
    return Buffer.concat(this.parts);
  }
}

/**
 * A metadata value with its GGUF type: { u32 }, { i32 }, { f32 }, { bool }, { str }, or arrays
 * { strs }, { f32s }, { i32s }.
 */
function writeValue(out, v) {
  if ('u32' in v) return (out.u32(T.UINT32), out.u32(v.u32));
  if ('i32' in v) return (out.u32(T.INT32), out.i32(v.i32));
  if ('f32' in v) return (out.u32(T.FLOAT32), out.f32(v.f32));
  if ('bool' in v) return (out.u32(T.BOOL), out.parts.push(Buffer.of(v.bool ? 1 : 0)));
  if ('str' in v) return (out.u32(T.STRING), out.str(v.str));
  out.u32(T.ARRAY);
  if ('strs' in v) {
    (out.u32(T.STRING), out.u64(v.strs.length));
    for (const s of v.strs) out.str(s);
  } else if ('f32s' in v) {
    (out.u32(T.FLOAT32), out.u64(v.f32s.length));
    out.parts.push(Buffer.from(Float32Array.from(v.f32s).buffer));
  } else if ('i32s' in v) {
    (out.u32(T.INT32), out.u64(v.i32s.length));
    out.parts.push(Buffer.from(Int32Array.from(v.i32s).buffer));
  } else throw new Error(`gguf: unknown metadata value ${JSON.stringify(v).slice(0, 80)}`);
}

const padTo = (n) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;

/** Opens `file` for writing, writes the header, metadata and tensor infos; tensors follow through write(). */
export function openGguf(file, metadata, tensors) {
  const head = new Bytes();
  head.u32(0x46554747); // "GGUF"
  head.u32(3);
  head.u64(tensors.length);
  head.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    head.str(key);
    writeValue(head, value);
  }
  let offset = 0;
  const expected = [];
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.type];
    head.str(t.name);
    head.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) head.u64(d);
    head.u32(GGML_TYPES[t.type]);
    head.u64(offset);
    expected.push({ name: t.name, bytes });
    offset += bytes + padTo(bytes);
  }
  const header = head.buffer();
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, header);
  fs.writeSync(fd, Buffer.alloc(padTo(header.length)));
  let next = 0;
  return {
    write(name, bytes) {
      const e = expected[next++];
      if (!e || e.name !== name || e.bytes !== bytes.byteLength)
        throw new Error(`gguf: got ${name} (${bytes.byteLength} bytes), expected ${e?.name} (${e?.bytes} bytes)`);
      fs.writeSync(fd, bytes);
      fs.writeSync(fd, Buffer.alloc(padTo(bytes.byteLength)));
    },
    close() {
      fs.closeSync(fd);
      if (next !== expected.length) throw new Error(`gguf: ${expected.length - next} tensors not written`);
    },
  };
}
