// The `prefdyn` command: finds the command by its words, parses its options,
// runs it, and turns errors into one-line messages with an exit code: a usage mistake 2 (UsageError),
// a bad value or bad input 1 (UserError), a filesystem fault 1 (`<path>: <cause> (<CODE>)`), a bug 70.
import { parseArgs } from 'node:util';
import { commands, type CommandEntry } from './registry.js';
import { type Command, type OptionSpec, type ParsedArgs } from './command.js';
import { filesystemErrorText, UsageError, UserError } from '../util/errors.js';
import { matmulPrecision } from '../tensor/kernels/index.js';

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

function findEntry(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  // Longest match first: "data stats" before "data".
  const sorted = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const entry of sorted) {
    const words = entry.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { entry, rest: argv.slice(words.length) };
  }
  return undefined;
}

/** `prefdyn --help`: every command with its one-line summary (loading them all is fine for help). */
async function overview(): Promise<string> {
  const loaded = await Promise.all(commands.map(async (c) => (await c.load()).command));
  const lines = ['prefdyn: preference training (DPO and variants) and its learning dynamics', '', 'Commands:'];
  const width = Math.max(...loaded.map((c) => c.name.length));
  for (const c of loaded) lines.push(`  prefdyn ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push('', 'Run `prefdyn <command> --help` for its options and an example.');
  return lines.join('\n');
}

// A negative number ("-1", "-.5", "-1e-3") after an option that takes a value.
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--lr -1` as `--lr=-1`: parseArgs refuses a value that starts with "-" unless it is joined with "=",
 * but a negative number is a value; the option's own check then accepts or refuses it.
 */
function joinNegativeValues(args: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [...out, ...args.slice(i)];
    const next = args[i + 1];
    const takesValue = arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export function parseCommandArgs(command: Command, rest: string[]): ParsedArgs & { help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(rest, command.options),
      options: { ...command.options, ...HELP_OPTION },
      allowPositionals: true,
      strict: !command.allowUnknown,
      tokens: false,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun \`prefdyn ${command.name} --help\` for usage.`);
  }
  const values = { ...parsed.values } as ParsedArgs['values'];
  const help = values.help === true;
  delete values.help;
  const [min, max] = command.positionals ?? [0, 0];
  if (!help && (parsed.positionals.length < min || parsed.positionals.length > max)) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(
      `${command.name} takes ${want} argument(s), got ${parsed.positionals.length}` +
        `${parsed.positionals.length ? ` (${parsed.positionals.join(' ')})` : ''}\n` +
        `Run \`prefdyn ${command.name} --help\` for usage.`,
    );
  }
  return { positionals: parsed.positionals, values, help };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write((await overview()) + '\n');
    return 0;
  }
  const found = findEntry(argv);
  if (!found)
    throw new UsageError(`unknown command "${argv.join(' ')}"; run \`prefdyn --help\` for the list of commands`);
  const { command } = await found.entry.load();
  const args = parseCommandArgs(command, found.rest);
  if (args.help) {
    process.stdout.write(command.help.trimEnd() + '\n');
    return 0;
  }
  // A bad PREFDYN_MATMUL_PRECISION stops every command before it works (doctor reports it instead).
  if (command.name !== 'doctor') matmulPrecision();
  return (await command.run(args)) ?? 0;
}

export function runMain(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const filesystem = filesystemErrorText(err);
      if (err instanceof UserError) {
        process.stderr.write(`prefdyn: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else if (filesystem !== undefined) {
        process.stderr.write(`prefdyn: ${filesystem}\n`);
        process.exitCode = 1;
      } else {
        process.stderr.write(`prefdyn: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
        process.exitCode = 70;
      }
    },
  );
}
