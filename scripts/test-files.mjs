// Which files are tests, for scripts/test.mjs and scripts/test-core-types.mjs: dist/test/*.test.js
// (dist/test/helpers/ holds shared code), and the engine's subset that differs between kernel sets.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every test file, relative to the package root. */
export function allTests() {
  return fs
    .readdirSync(path.join(root, 'dist', 'test'))
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join('dist', 'test', f));
}

/** The engine's tests: tensors, gradients, every family against PyTorch, 16-bit weights, checkpointed layers, LoRA, log-probs. */
export const engineTests = [
  'tensor',
  'tensor-ops',
  'gradcheck',
  'parity',
  'parity-llama-family',
  'rope-scaling',
  'model-families',
  'half-weights',
  'gradient-checkpointing',
  'lora',
  'model-logprobs',
].map((n) => path.join('dist', 'test', `${n}.test.js`));
