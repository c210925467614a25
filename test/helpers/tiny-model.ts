// The tiny Llama most training tests run on (d=32, 2 layers, the gpt2-small fixture tokenizer), made
// with `prefdyn model init` as a user would.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fixturesDir, runCli } from './cli.js';

/** Writes the tiny Llama (seed 3 and the gpt2-small fixture tokenizer unless told) to `out`. */
export function initTinyLlama(
  out: string,
  seed = 3,
  tokenizer = path.join(fixturesDir, 'tokenizers', 'gpt2-small'),
): void {
  const r = runCli([
    'model',
    'init',
    '--arch',
    'llama',
    '--size',
    'd=32,layers=2,heads=4,kv=2',
    '--tokenizer',
    tokenizer,
    '--out',
    out,
    '--seed',
    String(seed),
  ]);
  assert.equal(r.code, 0, r.stderr);
}
