// The data-source flags every command that reads a <source> shares (data, train, embed, logprobs,
// analyze): declare them with addSourceOptions() and turn the parsed values into loader options
// with sourceOptionsFromArgs().
import { type OptionSpec, type ParsedArgs } from './command.js';
import { FRACTION, NON_NEGATIVE_INTEGER, parseNumber } from '../util/option-value.js';
import { locationText, type SkippedRow } from '../data/errors.js';
import type { SourceOptions } from '../data/source-options.js';
import { DEFAULT_SPLIT_SEED, DEFAULT_TEST_FRACTION } from '../data/split.js';

const SOURCE_OPTIONS = {
  flip: { type: 'boolean' },
  'skip-invalid': { type: 'boolean' },
  'prompt-field': { type: 'string' },
  'chosen-field': { type: 'string' },
  'rejected-field': { type: 'string' },
  'group-field': { type: 'string' },
  'id-field': { type: 'string' },
} as const satisfies OptionSpec;

/** Help lines for the flags of addSourceOptions(), to paste into a command's help text. */
export const SOURCE_OPTIONS_HELP = `Data source: persona | persona:<behaviour>[,<behaviour>...] | hh-rlhf | FILE.jsonl | FILE.json
  --flip                 swap chosen and rejected (and the Yes/No label)
  --skip-invalid         report each bad row on stderr and go on (default: stop at the first)
  --prompt-field NAME    column holding the prompt (default "prompt"; rows without one are split at
                         the shared beginning of chosen and rejected)
  --chosen-field NAME    column holding the preferred response (default "chosen")
  --rejected-field NAME  column holding the other response (default "rejected")
  --group-field NAME     column holding the group (default: the first of "group", "subset", "category"
                         a row has, else the file name)
  --id-field NAME        column holding a unique id (default "id" if present, else "<file name>/<line index>")`;

export function addSourceOptions<T extends OptionSpec>(options: T): T & typeof SOURCE_OPTIONS {
  return { ...options, ...SOURCE_OPTIONS };
}

/** Reports a skipped row on stderr: "prefdyn: skipped FILE:LINE (id): reason". */
export function reportSkip(skip: SkippedRow): void {
  process.stderr.write(`prefdyn: skipped ${locationText(skip)}${skip.id ? ` (${skip.id})` : ''}: ${skip.reason}\n`);
}

function optionalString(values: ParsedArgs['values'], key: string): string | undefined {
  const value = values[key];
  return typeof value === 'string' ? value : undefined;
}

/** Loader options from the flags of addSourceOptions(); every skipped row is reported on stderr. */
export function sourceOptionsFromArgs(values: ParsedArgs['values']): SourceOptions {
  return {
    flip: values.flip === true,
    skipInvalid: values['skip-invalid'] === true,
    fields: {
      prompt: optionalString(values, 'prompt-field'),
      chosen: optionalString(values, 'chosen-field'),
      rejected: optionalString(values, 'rejected-field'),
      group: optionalString(values, 'group-field'),
      id: optionalString(values, 'id-field'),
    },
    onSkip: reportSkip,
  };
}

/** --test-fraction and --seed: the per-group split (defaults 0.1 and 1234, as in the paper). */
export const SPLIT_OPTIONS = {
  'test-fraction': { type: 'string', default: String(DEFAULT_TEST_FRACTION) },
  seed: { type: 'string', default: String(DEFAULT_SPLIT_SEED) },
} as const satisfies OptionSpec;

export function splitOptionsFromArgs(values: ParsedArgs['values']): { testFraction: number; seed: number } {
  return {
    testFraction: parseNumber('--test-fraction', values['test-fraction'], FRACTION),
    seed: parseNumber('--seed', values.seed, NON_NEGATIVE_INTEGER),
  };
}
