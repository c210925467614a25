// `npm start`: a first look at what prefdyn holds. For now the bundled data summary.
import type { Command } from './command.js';
import { formatCount } from './data-table.js';
import { dataStats, type DataStats } from '../data/stats.js';
import { DEFAULT_TEST_FRACTION } from '../data/split.js';

function summaryLines(name: string, s: DataStats): string[] {
  const t = s.total;
  const balance = t.prefers_yes + t.prefers_no > 0 ? ` (${formatCount(t.prefers_yes)} prefer " Yes", ${formatCount(t.prefers_no)} " No")` : '';
  const lines = [
    `  ${name.padEnd(8)} ${formatCount(t.groups)} group${t.groups === 1 ? '' : 's'}, ${formatCount(t.pairs)} pairs${balance}`,
    `  ${''.padEnd(8)} split per group: ${formatCount(t.train)} train, ${formatCount(t.test)} test; prompt length p50 ${t.prompt_chars.p50}, p90 ${t.prompt_chars.p90}, max ${t.prompt_chars.max} characters`,
  ];
  for (const r of s.skipped.reasons) lines.push(`  ${''.padEnd(8)} skipped ${formatCount(r.count)}: ${r.reason}`);
  return lines;
}

export const command: Command = {
  name: 'start',
  summary: 'a summary of the bundled data and where to go next (what `npm start` runs)',
  help: `Usage: prefdyn start

Prints a summary of the bundled datasets (persona, hh-rlhf) and the commands to explore them.

Example:
  npm start`,
  options: {},
  async run() {
    const lines = ['prefdyn: preference training (DPO and variants) and its learning dynamics', '', 'Bundled data:'];
    for (const name of ['persona', 'hh-rlhf']) lines.push(...summaryLines(name, await dataStats(name, { testFraction: DEFAULT_TEST_FRACTION })));
    const next = [
      ['prefdyn data list', 'the sources and the 135 persona behaviours'],
      ['prefdyn data stats persona:agreeableness', 'per-group statistics of a source'],
      ['prefdyn --help', 'every command'],
    ];
    lines.push('', 'Next:', ...next.map(([cmd, what]) => `  ${cmd!.padEnd(42)}${what}`));
    process.stdout.write(lines.join('\n') + '\n');
  },
};
