// Pairs written as TRL-style JSONL ({prompt, chosen, rejected, group, id} per line), atomically:
// the file appears complete or not at all.
import { openAtomic } from '../util/atomic-write.js';
import type { PreferencePair } from './pair.js';

function trlRow(pair: PreferencePair): string {
  return JSON.stringify({ prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected, group: pair.group, id: pair.id });
}

/** Writes one line per pair from `batches` into `file` (through a temporary file, then rename); returns the count. */
export async function writePairsJsonl(file: string, batches: AsyncIterable<readonly PreferencePair[]>): Promise<number> {
  const out = openAtomic(file);
  let count = 0;
  try {
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      out.write(Buffer.from(batch.map(trlRow).join('\n') + '\n', 'utf8'));
      count += batch.length;
    }
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  return count;
}
