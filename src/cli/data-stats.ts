// `prefdyn data stats <source>`: per-group counts, split sizes, Yes/No balance and prompt lengths.
import type { Command } from './command.js';
import {
  addSourceOptions,
  SOURCE_OPTIONS_HELP,
  SPLIT_OPTIONS,
  sourceOptionsFromArgs,
  splitOptionsFromArgs,
} from './data-options.js';
import { formatCount, formatTable } from './data-table.js';
import { locationText } from '../data/errors.js';
import { dataStats, type DataStats, type GroupStats } from '../data/stats.js';
import { plural } from '../util/plural.js';

const SKIPS_LISTED = 20;

function statsRow(name: string, g: Omit<GroupStats, 'group'>): string[] {
  const balance = g.prefers_yes + g.prefers_no > 0 ? `${formatCount(g.prefers_yes)}/${formatCount(g.prefers_no)}` : '-';
  const p = g.prompt_chars;
  return [name, formatCount(g.pairs), formatCount(g.train), formatCount(g.test), balance, `${p.p50}/${p.p90}/${p.max}`];
}

export function formatStats(stats: DataStats): string {
  const header = ['group', 'pairs', 'train', 'test', 'chosen Yes/No', 'prompt chars p50/p90/max'];
  const rows = stats.groups.map((g) => statsRow(g.group, g));
  rows.push(statsRow(`total (${formatCount(stats.total.groups)} ${plural('group', stats.total.groups)})`, stats.total));
  const lines = [stats.description, '', formatTable(header, rows, 'lrrrrr'), ''];
  lines.push(
    `test: round(${stats.test_fraction} x pairs) per group (--test-fraction); chosen Yes/No: pairs preferring " Yes" / " No";`,
    'prompt lengths in characters',
  );
  if (stats.skipped.count > 0) {
    lines.push('', `skipped ${formatCount(stats.skipped.count)} row(s), kept ${formatCount(stats.total.pairs)}:`);
    for (const r of stats.skipped.reasons) lines.push(`  ${formatCount(r.count)} x ${r.reason}`);
    for (const s of stats.skipped.rows.slice(0, SKIPS_LISTED))
      lines.push(`    ${locationText(s)}${s.id ? ` (${s.id})` : ''}`);
    if (stats.skipped.count > SKIPS_LISTED)
      lines.push(`    ... and ${formatCount(stats.skipped.count - SKIPS_LISTED)} more (--json lists all)`);
  }
  return lines.join('\n');
}

export const command: Command = {
  name: 'data stats',
  summary: 'per-group pairs, train/test sizes, Yes/No balance and prompt lengths of a data source',
  help: `Usage: prefdyn data stats <source> [options]

Reads the source in one streaming pass (only per-group counts are kept) and prints, per group:
pairs, train/test sizes of the seeded split, how many pairs prefer " Yes" vs " No", and prompt
length percentiles in characters; totals last. Skipped rows are listed with their reason.

Options:
  --json                 print the statistics as JSON
  --test-fraction F      share of each group held out for testing (default 0.1)
${SOURCE_OPTIONS_HELP}

Example:
  prefdyn data stats persona:agreeableness,subscribes-to-Buddhism`,
  options: addSourceOptions({ json: { type: 'boolean' }, 'test-fraction': SPLIT_OPTIONS['test-fraction'] }),
  positionals: [1, 1],
  async run({ positionals, values }) {
    const { testFraction } = splitOptionsFromArgs({ ...values, seed: '0' });
    const stats = await dataStats(positionals[0]!, { source: sourceOptionsFromArgs(values), testFraction });
    process.stdout.write((values.json ? JSON.stringify(stats, null, 2) : formatStats(stats)) + '\n');
  },
};
