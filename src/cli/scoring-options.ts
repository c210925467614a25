// Options shared by the commands that run a model over a data source (logprobs, embed).
import fs from 'node:fs';
import path from 'node:path';
import { type ParsedArgs } from './command.js';
import { UsageError, UserError } from '../util/errors.js';

export const SCORING_OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  'batch-size': { type: 'string', default: '8' },
} as const;

export const SCORING_OPTIONS_HELP = `  --model DIR            Hugging Face model folder (config.json, model.safetensors, tokenizer.json)
  --data SRC             data source (required)
  --batch-size N         sequences per forward pass (default 8)`;

/** --model, --data, --out and --batch-size, checked; `out` must lie in an existing folder. */
export function scoringArgs(name: string, values: ParsedArgs['values']): { model: string; data: string; out: string; batchSize: number } {
  for (const key of ['model', 'data', 'out'] as const) {
    if (typeof values[key] !== 'string' || (values[key] as string).length === 0) throw new UsageError(`${name} needs --${key}`);
  }
  const batchSize = Number(values['batch-size']);
  if (!(Number.isSafeInteger(batchSize) && batchSize > 0)) throw new UsageError(`--batch-size must be a positive integer, got "${values['batch-size']}"`);
  const out = values.out as string;
  const dir = path.dirname(out);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`--out ${out}: folder ${dir} does not exist`);
  return { model: values.model as string, data: values.data as string, out, batchSize };
}

/** Writes `text` to a temporary sibling and renames it into place: the file is complete or absent. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
