// Where the bundled datasets live (data/ at the repository root) and what they hold.
import fs from 'node:fs';
import path from 'node:path';
import { packagePath } from '../util/package-root.js';
import zlib from 'node:zlib';

export const bundledDataDir = packagePath('data');

export const personaDir = path.join(bundledDataDir, 'persona');
export const hhRlhfFile = path.join(bundledDataDir, 'hh-rlhf', 'harmless-base', 'test.jsonl.gz');
export const HH_RLHF_GROUP = 'harmless-base';

let behaviourCache: string[] | undefined;

/** The persona behaviours (file names without .jsonl.gz), sorted. */
export function personaBehaviours(): string[] {
  if (!behaviourCache) {
    let names: string[];
    try {
      names = fs.readdirSync(personaDir);
    } catch {
      throw new Error(`bundled persona data not found in ${path.relative(process.cwd(), personaDir) || '.'}; the package is incomplete`);
    }
    behaviourCache = names.filter((n) => n.endsWith('.jsonl.gz')).map((n) => n.slice(0, -'.jsonl.gz'.length)).sort();
  }
  return behaviourCache;
}

export function personaFile(behaviour: string): string {
  return path.join(personaDir, `${behaviour}.jsonl.gz`);
}

/** Number of rows (non-empty lines) in a bundled .jsonl.gz file, without parsing them. */
export function bundledRowCount(file: string): number {
  const text = zlib.gunzipSync(fs.readFileSync(file));
  let rows = 0;
  let start = 0;
  for (let nl = text.indexOf(10); nl !== -1; nl = text.indexOf(10, start)) {
    if (nl > start) rows++;
    start = nl + 1;
  }
  return start < text.length ? rows + 1 : rows;
}
