// The self-contained report.html: figures as inline SVG (with <title> hover text), styles and the
// small script that sorts the analysis table inline; no external URL, so it opens from disk offline.
import type { AnalysisReport } from '../analysis/analysis-report.js';
import type { FigureSpec } from './figure-specs.js';

export interface RenderedSection {
  heading: string;
  figures: { figure: FigureSpec; svg: string; files: string[] }[];
  analysis?: AnalysisReport;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inline SVG needs no namespace declarations in HTML; dropping them keeps the page free of any URL. */
export function inlineSvg(svg: string): string {
  return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
}

const STYLE = `
body { font-family: 'DejaVu Sans', system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
figure { margin: 1.5em 0; overflow-x: auto; } figure h3 { font-size: 1.05em; margin: 0 0 .4em; }
figcaption { color: #555; font-size: .92em; margin-top: .3em; max-width: 900px; }
figcaption a { color: #555; margin-right: .6em; }
table.sortable { border-collapse: collapse; font-size: .85em; margin: 1em 0; }
table.sortable th, table.sortable td { border-bottom: 1px solid #e4e4e4; padding: .25em .6em; text-align: right; white-space: nowrap; }
table.sortable td:first-child, table.sortable th:first-child { text-align: left; }
table.sortable th { cursor: pointer; background: #f6f6f6; user-select: none; }
table.sortable th[data-dir=asc]::after { content: ' \\25B2'; } table.sortable th[data-dir=desc]::after { content: ' \\25BC'; }
.notes { color: #555; }
`;

/** Sorts a table by the clicked column: numbers (data-v) numerically, the rest as text; a second click reverses. */
const SORT_SCRIPT = `
for (const th of document.querySelectorAll('table.sortable th')) {
  th.addEventListener('click', () => {
    const body = th.closest('table').tBodies[0];
    const col = th.cellIndex;
    const asc = th.dataset.dir !== 'asc';
    for (const other of th.parentElement.children) delete other.dataset.dir;
    th.dataset.dir = asc ? 'asc' : 'desc';
    const key = (tr) => { const c = tr.cells[col]; return c.dataset.v !== undefined ? Number(c.dataset.v) : c.textContent; };
    const rows = [...body.rows].sort((a, b) => {
      const x = key(a), y = key(b);
      const r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return asc ? r : -r;
    });
    for (const r of rows) body.appendChild(r);
  });
}
`;

type Column = [title: string, value: (g: AnalysisReport['groups'][number]) => string | number | null];

const COLUMNS: Column[] = [
  ['group', (g) => g.group],
  ['predicted rank', (g) => g.predicted_rank],
  ['n+', (g) => g.n_pos],
  ['n-', (g) => g.n_neg],
  ['Delta', (g) => g.delta],
  ['Delta unbiased', (g) => g.delta_unbiased],
  ['Delta 95% CI', (g) => (g.delta_ci ? `[${fixed(g.delta_ci[0])}, ${fixed(g.delta_ci[1])}]` : null)],
  ['concentration', (g) => g.concentration],
  ['Delta/sqrt(conc.)', (g) => g.delta_over_sqrt_concentration],
  ['Fisher', (g) => g.fisher],
  ['tail alpha', (g) => g.tail_alpha],
  ['margin velocity', (g) => g.margin_velocity],
  ['one-step accuracy', (g) => g.one_step_accuracy],
];

function fixed(x: number): string {
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(4);
}

/** The analysis (contract 5) as a table sortable by any column. */
export function analysisHtmlTable(a: AnalysisReport): string {
  const head = COLUMNS.map(([t]) => `<th>${escapeHtml(t)}</th>`).join('');
  const rows = a.groups.map((g) => {
    const cells = COLUMNS.map(([, value]) => {
      const v = value(g);
      if (typeof v === 'number') return `<td data-v="${v}">${fixed(v)}</td>`;
      return `<td>${v === null ? '-' : escapeHtml(v)}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="sortable"><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** `lead`: HTML shown before the sections (the reproductions side by side), or none. */
export function reportHtml(sections: RenderedSection[], notes: string[], inputs: string[], lead = ''): string {
  const parts = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>prefdyn report</title><style>${STYLE}</style></head><body>`,
    '<h1>prefdyn report</h1>',
    `<p>Inputs: ${inputs.map((i) => `<code>${escapeHtml(i)}</code>`).join(', ')}. Hover a line or point for its behaviour's full name; click a table header to sort.</p>`,
  ];
  if (lead) parts.push(lead);
  for (const s of sections) {
    parts.push(`<section><h2>${escapeHtml(s.heading)}</h2>`);
    for (const { figure, svg, files } of s.figures) {
      const links = files.map((f) => `<a href="${escapeHtml(f)}">${escapeHtml(f)}</a>`).join('');
      parts.push(
        `<figure id="${escapeHtml(figure.name)}"><h3>${escapeHtml(figure.title)}</h3>`,
        inlineSvg(svg),
        `<figcaption>${escapeHtml(figure.caption)}${links ? `<br>${links}` : ''}</figcaption></figure>`,
      );
    }
    if (s.analysis) parts.push('<h3>Analysis table</h3>', analysisHtmlTable(s.analysis));
    parts.push('</section>');
  }
  if (notes.length)
    parts.push(
      '<section class="notes"><h2>Figures not shown</h2><ul>',
      ...notes.map((n) => `<li>${escapeHtml(n)}</li>`),
      '</ul></section>',
    );
  parts.push(`<script>${SORT_SCRIPT}</script></body></html>`, '');
  return parts.join('\n');
}
