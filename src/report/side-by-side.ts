// Reproductions side by side (`prefdyn report` given two or more `prefdyn reproduce` folders, e.g. one
// per model): the settings, each finding's status, and every pre-registered test, keyed by finding,
// experiment, mode, measure and predictor so that one test reads across models. As Markdown
// (side-by-side.md) and as report.html's first section.
import type { ReproduceSummary } from '../experiments/reproduce-summary.js';
import type { SummaryTest } from '../experiments/protocol-tests.js';
import { fmt } from '../experiments/findings.js';
import { markdownTable } from './markdown-table.js';
import { escapeHtml } from './report-html.js';
import { plural } from '../util/plural.js';

export interface Reproduction {
  /** The folder, as given. */
  path: string;
  summary: ReproduceSummary;
}

/** A table: header and rows of plain-text cells (Markdown and HTML escape them their own way). */
interface Table {
  head: string[];
  rows: string[][];
}

const testKey = (t: SummaryTest) => [`${t.finding}`, t.experiment, t.mode, t.measure, t.predictor, t.statistic];

/** Value [interval], p, verdict, and what the test rests on (behaviours or decided pairs, seeds). */
export function testCell(t: SummaryTest | undefined): string {
  if (!t) return 'not run';
  const interval = t.interval ? ` [${fmt(t.interval[0], 2)}, ${fmt(t.interval[1], 2)}]` : '';
  const over = `${t.n_behaviours} ${plural(t.statistic === 'sign test' ? 'pair' : 'behaviour', t.n_behaviours)}`;
  return `${fmt(t.value, 2)}${interval}, p ${fmt(t.p_value, 3)}, ${t.decision} (${over}, ${t.seeds.length} ${plural('seed', t.seeds.length)})`;
}

/** The alignment's lr; summaries written before the lr ladder do not record it. */
function alignmentCell(s: ReproduceSummary): string {
  const a = s.misalignment.align;
  if (a.multiple === undefined) return `lr ${a.lr} (no lr ladder recorded)`;
  return `${a.multiple} x ${a.paper_lr}${a.moved ? '' : ' (did not move the model)'}`;
}

function tables(runs: Reproduction[]): { settings: Table; findings: Table; tests: Table } {
  // Columns are named by folder: two reproductions of one model (other seeds, another profile) differ there.
  const heads = runs.map((r) => r.path);
  const column = (label: string, cell: (s: ReproduceSummary) => string) => [label, ...runs.map((r) => cell(r.summary))];
  const settings: Table = {
    head: ['', ...heads],
    rows: [
      column('model', (s) => s.model),
      column('hidden size', (s) => String(s.d)),
      column('profile', (s) => s.profile.name),
      column('behaviours', (s) => String(s.protocol.behaviours.length)),
      column('seeds', (s) => s.protocol.seeds.join(', ')),
      column('modes', (s) => s.protocol.modes.join(', ')),
      column('embedding position', (s) => s.embedding_position),
      column('alignment lr', alignmentCell),
      column(
        'kernels',
        (s) =>
          `${s.provenance.kernels}${s.provenance.blas ? `, ${s.provenance.blas.core}` : ''}, ${s.provenance.threads} threads${s.provenance.matmul && s.provenance.matmul !== 'f32' ? `, ${s.provenance.matmul} matmul` : ''}`,
      ),
    ],
  };
  const claims = runs[0]!.summary.findings.map((f) => f.claim);
  const findings: Table = {
    head: ['finding', ...heads],
    rows: claims.map((claim, i) => [
      `${i + 1}. ${claim}`,
      ...runs.map((r) => r.summary.findings.find((f) => f.claim === claim)?.status ?? 'not run'),
    ]),
  };
  // Each reproduction's tests by key, once; rows are every key any of them has, in order of appearance.
  const byKey = runs.map((r) => new Map(r.summary.tests.map((t) => [testKey(t).join('\u0000'), t])));
  const keys = new Map(byKey.flatMap((m) => [...m].map(([id, t]) => [id, testKey(t)] as const)));
  const tests: Table = {
    head: ['finding', 'experiment', 'mode', 'measure', 'predictor', 'statistic', ...heads],
    rows: [...keys].map(([id, key]) => [...key, ...byKey.map((m) => testCell(m.get(id)))]),
  };
  return { settings, findings, tests };
}

const EXPLANATION =
  'Each test cell: the statistic (Spearman, share of pairs in the predicted order, or mean aligned-minus-base difference), its 95% interval, its p-value, the verdict of the decision rule each reproduction fixed before its runs, and what it rests on (behaviours or decided pairs; seeds).';

function htmlTable(t: Table): string {
  const row = (cells: string[], tag: string) =>
    `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  return `<table class="sortable"><thead>${row(t.head, 'th')}</thead><tbody>\n${t.rows.map((r) => row(r, 'td')).join('\n')}\n</tbody></table>`;
}

/** The first line of side-by-side.md, by which a later report knows the file as its own. */
export const SIDE_BY_SIDE_TITLE = '# Reproductions side by side';

export function sideBySideMarkdown(runs: Reproduction[]): string {
  const t = tables(runs);
  return [
    SIDE_BY_SIDE_TITLE,
    '',
    markdownTable(t.settings.head, t.settings.rows),
    '',
    '## Findings',
    '',
    markdownTable(t.findings.head, t.findings.rows),
    '',
    '## Every pre-registered test',
    '',
    EXPLANATION,
    '',
    markdownTable(t.tests.head, t.tests.rows),
    '',
  ].join('\n');
}

export function sideBySideHtml(runs: Reproduction[]): string {
  const t = tables(runs);
  return [
    '<section><h2>Reproductions side by side</h2>',
    htmlTable(t.settings),
    '<h3>Findings</h3>',
    htmlTable(t.findings),
    '<h3>Every pre-registered test</h3>',
    `<p>${escapeHtml(EXPLANATION)}</p>`,
    htmlTable(t.tests),
    '</section>',
  ].join('\n');
}
