// `prefdyn data export <source> --out FILE.jsonl`: pairs as TRL-style JSONL, written atomically.
import { type Command } from './command.js';
import { UsageError } from '../util/errors.js';
import { parseChoice } from '../util/option-value.js';
import { checkOutputFile } from '../util/output-path.js';
import {
  addSourceOptions,
  SOURCE_OPTIONS_HELP,
  SPLIT_OPTIONS,
  sourceOptionsFromArgs,
  splitOptionsFromArgs,
} from './data-options.js';
import { formatCount } from './data-table.js';
import { writePairsJsonl } from '../data/export.js';
import type { PreferencePair } from '../data/pair.js';
import { loadSource, streamSource } from '../data/source.js';
import { splitPairs } from '../data/split.js';
import { plural } from '../util/plural.js';

const SPLITS = ['all', 'train', 'test'] as const;

export const command: Command = {
  name: 'data export',
  summary: 'write a data source as TRL-style prompt/chosen/rejected JSONL',
  help: `Usage: prefdyn data export <source> --out FILE.jsonl [options]

Writes one JSON object per line: {"prompt", "chosen", "rejected", "group", "id"}, the format TRL's
DPOTrainer and most preference tools read. Reading the file back with prefdyn gives the same pairs,
groups and ids. The file is written to a temporary name and renamed, so it is complete or absent.

Options:
  --out FILE             where to write (required)
  --split all|train|test which pairs (default all); train/test use the seeded per-group split
  --test-fraction F      share of each group held out for testing (default 0.1)
  --seed N               seed of the split (default 1234)
  --json                 print a JSON summary instead of a sentence
${SOURCE_OPTIONS_HELP}

Example:
  prefdyn data export persona:agreeableness --out agreeableness.jsonl`,
  options: addSourceOptions({
    out: { type: 'string' },
    split: { type: 'string', default: 'all' },
    json: { type: 'boolean' },
    ...SPLIT_OPTIONS,
  }),
  positionals: [1, 1],
  async run({ positionals, values }) {
    const out = values.out;
    if (typeof out !== 'string' || out.length === 0) throw new UsageError('data export needs --out FILE.jsonl');
    const split = parseChoice('--split', values.split, SPLITS);
    checkOutputFile('--out', out);
    const splitOptions = splitOptionsFromArgs(values);
    const source = sourceOptionsFromArgs(values);
    const groups = new Set<string>();
    const counted = async function* (batches: AsyncIterable<PreferencePair[]>) {
      for await (const batch of batches) {
        for (const p of batch) groups.add(p.group);
        yield batch;
      }
    };
    let batches: AsyncIterable<PreferencePair[]>;
    if (split === 'all') {
      batches = streamSource(positionals[0]!, source).batches;
    } else {
      const { pairs } = await loadSource(positionals[0]!, source);
      const chosen = splitPairs(pairs, splitOptions)[split];
      batches = (async function* () {
        yield chosen;
      })();
    }
    const written = await writePairsJsonl(out, counted(batches));
    if (values.json) {
      process.stdout.write(JSON.stringify({ out, split, pairs: written, groups: groups.size }) + '\n');
    } else {
      process.stdout.write(
        `wrote ${formatCount(written)} pairs (${formatCount(groups.size)} ${plural('group', groups.size)}, split ${split}) to ${out}\n`,
      );
    }
  },
};
