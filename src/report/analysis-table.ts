// The terminal view of an analysis: groups ranked by predicted speed, then warnings.
import type { AnalysisReport } from '../analysis/analysis-report.js';

export function formatNumber(x: number | null, digits = 3): string {
  if (x === null) return '-';
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(digits - 1);
  return x.toPrecision(digits);
}

const GROUP_COLUMN = 1;

/** Rows of cells -> aligned text (the group column left-aligned, the rest right-aligned). */
export function alignColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === GROUP_COLUMN ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function analysisTable(report: AnalysisReport): string {
  const close = new Set(report.order.too_close.map((p) => `${p.a}\u0000${p.b}`));
  const header = [
    'rank',
    'group',
    'n+',
    'n-',
    'delta',
    'delta_u',
    'delta 95% CI',
    'conc',
    'delta/sqrt(conc)',
    'fisher',
    'tail a',
    'velocity',
    'rank CI',
    'acc1',
    '>= bound',
  ];
  const rows = report.groups.map((g, i) => {
    const next = report.groups[i + 1];
    const tie = next && close.has(`${g.group}\u0000${next.group}`) ? '~' : '';
    return [
      `${g.predicted_rank}${tie}`,
      g.group + (g.in_mix ? '' : ' (not in mix)'),
      String(g.n_pos),
      String(g.n_neg),
      formatNumber(g.delta),
      formatNumber(g.delta_unbiased),
      g.delta_ci ? `[${formatNumber(g.delta_ci[0])}, ${formatNumber(g.delta_ci[1])}]` : '-',
      formatNumber(g.concentration),
      formatNumber(g.delta_over_sqrt_concentration),
      formatNumber(g.fisher),
      formatNumber(g.tail_alpha, 2),
      formatNumber(g.margin_velocity),
      g.rank_ci ? `${g.rank_ci[0]}-${g.rank_ci[1]}` : '-',
      formatNumber(g.one_step_accuracy, 2),
      formatNumber(g.one_step_accuracy_bound, 2),
    ];
  });
  const lines = [
    `${report.groups.length} groups, ${report.source.rows} rows, d = ${report.source.d}; mix: ${report.settings.mix.length} group(s); bootstrap ${report.settings.bootstrap} (seed ${report.settings.seed})`,
    '',
    alignColumns([header, ...rows]),
    '',
    'delta_u: unbiased estimate of Delta (the noise floor tr(S+)/n+ + tr(S-)/n- removed from delta^2; 0 when below it)',
    'rank: predicted learning order (decreasing velocity = initial margin velocity in the mix, last-layer mode); ~: too close to call with the next',
    'acc1: reward accuracy after one full-batch step; bound: Cantelli lower bound from the same projections',
  ];
  if (report.warnings.length) {
    lines.push('', 'Warnings:');
    for (const w of report.warnings) lines.push(`  - ${w.message}`);
  }
  return lines.join('\n');
}
