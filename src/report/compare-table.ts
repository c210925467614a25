// The terminal view of a comparison.
import { alignColumns, formatNumber } from './analysis-table.js';
import type { ComparisonReport } from '../analysis/compare-run.js';
import { MEASURES } from '../analysis/observed-speed.js';

export function compareTable(report: ComparisonReport): string {
  const header = ['pred', 'group', 'velocity', 'delta', ...MEASURES.map((m) => m.name)];
  const rows = [...report.groups]
    .sort((a, b) => a.predicted_rank - b.predicted_rank)
    .map((g) => [
      String(g.predicted_rank),
      g.group,
      formatNumber(g.margin_velocity),
      formatNumber(g.delta),
      ...MEASURES.map((m) => (g.observed[m.name] === null ? 'never' : formatNumber(g.observed[m.name]!))),
    ]);
  const corr = [
    ['predictor', 'measure', 'spearman', '95% CI', 'p (one-sided)', 'verdict', 'kendall tau-b', '95% CI'],
    ...report.correlations.map((c) => [
      c.predictor,
      c.measure,
      formatNumber(c.spearman, 2),
      `${ci(c.spearman_ci)}${c.interval_degenerate ? ' degenerate' : ''}`,
      formatNumber(c.p_value, 3),
      c.decision,
      formatNumber(c.kendall_tau_b, 2),
      ci(c.kendall_ci),
    ]),
  ];
  const lines = [
    `${report.groups.length} groups; k = ${report.k}`,
    '',
    alignColumns([header, ...rows]),
    '',
    alignColumns(corr),
    '',
    'Findings:',
    ...report.findings.map((f) => `  - ${f}`),
  ];
  if (report.notes.length) lines.push('', 'Notes:', ...report.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

function ci(c: [number, number] | null): string {
  return c ? `[${formatNumber(c[0], 2)}, ${formatNumber(c[1], 2)}]` : '-';
}
