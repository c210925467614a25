// Pairs written as TRL-style JSONL ({prompt, chosen, rejected, group, id} per line), atomically:
// the file appears complete or not at all.
import fs from 'node:fs';
import path from 'node:path';
import type { PreferencePair } from './pair.js';

function trlRow(pair: PreferencePair): string {
  return JSON.stringify({ prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected, group: pair.group, id: pair.id });
}

/** Writes one line per pair from `batches` into `file` (through a temporary file, then rename); returns the count. */
export async function writePairsJsonl(file: string, batches: AsyncIterable<readonly PreferencePair[]>): Promise<number> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const handle = await fs.promises.open(tmp, 'w');
  let count = 0;
  try {
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      await handle.write(batch.map(trlRow).join('\n') + '\n');
      count += batch.length;
    }
    await handle.sync();
    await handle.close();
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  return count;
}
