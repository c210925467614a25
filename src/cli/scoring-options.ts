// Options shared by the commands that run a model over a data source (logprobs, embed).
import { type ParsedArgs } from './command.js';
import { UsageError } from '../util/errors.js';
import { checkOutputFile } from '../util/output-path.js';

export const SCORING_OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  'batch-size': { type: 'string', default: '8' },
} as const;

export const SCORING_OPTIONS_HELP = `  --model DIR            Hugging Face model folder (config.json, model.safetensors, tokenizer.json)
  --data SRC             data source (required)
  --batch-size N         sequences per forward pass (default 8)`;

/** --model, --data, --out and --batch-size, checked; `outFiles(out)` (the files the command writes) must be writable paths. */
export function scoringArgs(name: string, values: ParsedArgs['values'], outFiles: (out: string) => string[]): { model: string; data: string; out: string; batchSize: number } {
  for (const key of ['model', 'data', 'out'] as const) {
    if (typeof values[key] !== 'string' || (values[key] as string).length === 0) throw new UsageError(`${name} needs --${key}`);
  }
  const batchSize = Number(values['batch-size']);
  if (!(Number.isSafeInteger(batchSize) && batchSize > 0)) throw new UsageError(`--batch-size must be a positive integer, got "${values['batch-size']}"`);
  const out = values.out as string;
  for (const file of outFiles(out)) checkOutputFile('--out', file);
  return { model: values.model as string, data: values.data as string, out, batchSize };
}
