// The shape every `prefdyn` command has. A command file parses nothing itself: it declares its
// options here and receives them parsed; its logic lives in the library folders (data/, model/, ...).
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
}

export interface Command {
  /** The words after `prefdyn`, e.g. "data stats". */
  name: string;
  /** One line for `prefdyn --help`. */
  summary: string;
  /** Full `--help` text: usage line, options with defaults, one example. */
  help: string;
  options: OptionSpec;
  /** How many positionals the command takes: [min, max]. */
  positionals?: [number, number];
  /** Accept `--key value` pairs not declared in `options` (config overrides). */
  allowUnknown?: boolean;
  run(args: ParsedArgs): Promise<number | void>;
}

/** A one-line notice on stderr, as every command writes them: `prefdyn: <text>`. */
export const notice = (text: string): void => void process.stderr.write(`prefdyn: ${text}\n`);
