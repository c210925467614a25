// Streaming line reader for (optionally gzip-compressed) text files: memory stays bounded by the
// longest line, not the file. Handles a UTF-8 BOM, CRLF line ends and multi-byte characters split
// across chunks. Bytes that are not UTF-8 are an error naming the file and line, never U+FFFD.
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { DataError } from './errors.js';

export interface NumberedLine {
  /** 1-based. */
  line: number;
  text: string;
}

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

function openTextStream(file: string): Readable {
  const raw = fs.createReadStream(file, { highWaterMark: CHUNK_BYTES });
  return file.endsWith('.gz') ? raw.pipe(zlib.createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
}

// ignoreBOM: the BOM stays in the text, for the caller to strip where a file starts.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` (whole lines: "\n" never occurs inside a UTF-8 character) as text; invalid UTF-8 is a
 * DataError naming `shown` and the line it is on, `firstLine` being the line `bytes` starts on.
 */
export function decodeUtf8Lines(bytes: Uint8Array, shown: string, firstLine = 1): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let line = firstLine;
    for (let start = 0; start <= bytes.length; line++) {
      let end = bytes.indexOf(NEWLINE, start);
      if (end === -1) end = bytes.length;
      try {
        strictUtf8.decode(bytes.subarray(start, end));
      } catch {
        throw new DataError({ file: shown, line }, 'not valid UTF-8 text; save the file as UTF-8');
      }
      start = end + 1;
    }
    throw new DataError({ file: shown }, 'not valid UTF-8 text; save the file as UTF-8');
  }
}

/**
 * The lines of `file` (named `shown` in errors), in batches (one per chunk read) so that per-line cost
 * stays a plain loop. Line ends ("\n" or "\r\n") are removed; a final line without "\n" is still returned.
 */
export async function* readLineBatches(file: string, shown = file): AsyncGenerator<NumberedLine[]> {
  let pending: Buffer[] = [];
  let lineNo = 0;
  const lines = (bytes: Uint8Array, final: boolean): NumberedLine[] => {
    const texts = decodeUtf8Lines(bytes, shown, lineNo + 1).split('\n');
    if (!final || texts[texts.length - 1] === '') texts.pop(); // what follows the last "\n"
    return texts.map((text) => {
      if (++lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      return { line: lineNo, text: text.endsWith('\r') ? text.slice(0, -1) : text };
    });
  };
  for await (const chunk of openTextStream(file)) {
    const buf = chunk as Buffer;
    const lastNewline = buf.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      pending.push(buf);
      continue;
    }
    const whole = buf.subarray(0, lastNewline + 1);
    const batch = lines(pending.length ? Buffer.concat([...pending, whole]) : whole, false);
    pending = lastNewline + 1 < buf.length ? [buf.subarray(lastNewline + 1)] : [];
    if (batch.length) yield batch;
  }
  const tail = Buffer.concat(pending);
  if (tail.length) yield lines(tail, true);
}
