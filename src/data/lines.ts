// Streaming line reader for (optionally gzip-compressed) text files: memory stays bounded by the
// longest line, not the file. Handles a UTF-8 BOM, CRLF line ends and multi-byte characters split
// across chunks.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export interface NumberedLine {
  /** 1-based. */
  line: number;
  text: string;
}

const CHUNK_BYTES = 1 << 20;

function openTextStream(file: string): Readable {
  const raw = fs.createReadStream(file, { highWaterMark: CHUNK_BYTES });
  return file.endsWith('.gz') ? raw.pipe(zlib.createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
}

/**
 * The lines of `file`, in batches (one per decoded chunk) so that per-line cost stays a plain loop.
 * Line ends ("\n" or "\r\n") are removed; a final line without "\n" is still returned.
 */
export async function* readLineBatches(file: string): AsyncGenerator<NumberedLine[]> {
  const decoder = new StringDecoder('utf8');
  let pending: string[] = [];
  let lineNo = 0;
  let first = true;
  const finish = (text: string): NumberedLine => {
    lineNo++;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { line: lineNo, text };
  };
  for await (const chunk of openTextStream(file)) {
    const text = decoder.write(chunk as Buffer);
    const batch: NumberedLine[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      batch.push(finish(pending.length ? pending.join('') + piece : piece));
      pending = [];
      start = nl + 1;
    }
    if (start < text.length) pending.push(text.slice(start));
    if (batch.length) yield batch;
  }
  const tail = pending.join('') + decoder.end();
  if (tail.length) yield [finish(tail)];
}
