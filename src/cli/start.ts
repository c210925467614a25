// `npm start`: what prefdyn holds (the bundled data), then the paper's experiments in their quick
// profile on the bundled default model (`prefdyn reproduce --quick`).
import type { Command } from './command.js';
import { formatCount } from './data-table.js';
import { DEFAULT_MODEL, SMOKE_OPTIONS, smokeOverrides } from './reproduce.js';
import { dataStats, type DataStats } from '../data/stats.js';
import { DEFAULT_TEST_FRACTION } from '../data/split.js';
import { reproduce } from '../experiments/reproduce.js';
import { DEFAULT_PAIR_TOKENIZATION } from '../tokenizer/pair.js';
import { reproduceMarkdown } from '../report/reproduce-markdown.js';
import { terminalSummary } from '../report/terminal-summary.js';
import { reportReproduction } from '../report/write-report.js';
import { plural } from '../util/plural.js';

/** Kept apart from `prefdyn reproduce`'s default folder, so a full reproduction is not replaced by a quick one. */
const START_OUT = 'runs/quick';

function summaryLines(name: string, s: DataStats): string[] {
  const t = s.total;
  const balance =
    t.prefers_yes + t.prefers_no > 0
      ? ` (${formatCount(t.prefers_yes)} prefer " Yes", ${formatCount(t.prefers_no)} " No")`
      : '';
  const lines = [
    `  ${name.padEnd(8)} ${formatCount(t.groups)} ${plural('group', t.groups)}, ${formatCount(t.pairs)} pairs${balance}`,
    `  ${''.padEnd(8)} split per group: ${formatCount(t.train)} train, ${formatCount(t.test)} test; prompt length p50 ${t.prompt_chars.p50}, p90 ${t.prompt_chars.p90}, max ${t.prompt_chars.max} characters`,
  ];
  for (const r of s.skipped.reasons) lines.push(`  ${''.padEnd(8)} skipped ${formatCount(r.count)}: ${r.reason}`);
  return lines;
}

export const command: Command = {
  name: 'start',
  summary: "the bundled data, then the paper's experiments in their quick profile (what `npm start` runs)",
  help: `Usage: prefdyn start [--steps N] [--pairs N]

Prints a summary of the bundled datasets (persona, hh-rlhf), then runs \`prefdyn reproduce --quick\`
on the default model (${DEFAULT_MODEL}) into ${START_OUT}/: the paper's three findings tested under the
quick protocol (its five behaviours plus five drawn, one seed, last-layer and LoRA), with REPORT.md,
summary.json and report.html (the figures). About 4 minutes on 2 CPU cores.

Options (for smoke tests; the verdicts need the profile's numbers):
  --steps N      every run's step count but the alignment's one epoch
  --pairs N      pairs per behaviour, drawn with the seed (default all 1,000)

Example:
  npm start`,
  options: { ...SMOKE_OPTIONS },
  async run({ values }) {
    const lines = ['prefdyn: preference training (DPO and variants) and its learning dynamics', '', 'Bundled data:'];
    for (const name of ['persona', 'hh-rlhf'])
      lines.push(...summaryLines(name, await dataStats(name, { testFraction: DEFAULT_TEST_FRACTION })));
    lines.push('', `The paper's experiments, quick profile (prefdyn reproduce --quick --out ${START_OUT}):`, '');
    process.stdout.write(lines.join('\n') + '\n');
    const summary = await reproduce({
      model: DEFAULT_MODEL,
      out: START_OUT,
      profile: 'quick',
      seed: 1234,
      tokenize: DEFAULT_PAIR_TOKENIZATION,
      overrides: smokeOverrides(values),
      log: (line) => process.stderr.write(line + '\n'),
      markdown: reproduceMarkdown,
    });
    const report = await reportReproduction(START_OUT);
    const next = [
      ['prefdyn reproduce', 'the full protocol: 30 behaviours, 3 seeds, LoRA flips'],
      ['prefdyn analyze --model DIR --data SRC', 'distinguishability of your model on your data'],
      ['prefdyn --help', 'every command'],
    ];
    process.stdout.write(
      [
        terminalSummary(summary, START_OUT),
        '',
        'Next:',
        ...next.map(([cmd, what]) => `  ${cmd!.padEnd(42)}${what}`),
        '',
        `The figures (open in a browser): ${report.html}`,
      ].join('\n') + '\n',
    );
  },
};
