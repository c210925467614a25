// `prefdyn report`: the paper's figures and a self-contained report.html (logic in src/report/).
import path from 'node:path';
import fs from 'node:fs';
import { type Command } from './command.js';
import { UsageError } from '../util/errors.js';
import { writeReport, type FigureFiles } from '../report/write-report.js';

/** Where the report goes without --out: report/ inside the first PATH's folder (a file's own folder). */
export function defaultReportFolder(first: string): string {
  const isFolder = fs.existsSync(first) && fs.statSync(first).isDirectory();
  return path.join(isFolder ? first : path.dirname(first), 'report');
}

export const command: Command = {
  name: 'report',
  summary: "the paper's figures and a self-contained HTML report of runs, reproductions and analyses",
  help: `Usage: prefdyn report PATH... [--out DIR] [--figures svg|png|none]

PATH is any mix of run folders (prefdyn train --out), \`prefdyn reproduce\` folders and analysis JSON
files (prefdyn analyze --json). Writes DIR/report.html, self-contained (figures as inline SVG, no
external URL: it opens from disk offline): per-behaviour curves ordered and coloured by Delta,
predictors against observed speed (Spearman, Kendall, bootstrap intervals), the priority-gap heatmap,
misalignment (flip curves, Delta before/after), Yes/No embedding clouds (UMAP and PCA), weight-change
norms and the sortable analysis table. A run is compared with the first analysis given. A figure whose
inputs are missing is listed under "Figures not shown". Two or more reproduce folders (e.g. one per
model) are also put side by side: settings, each finding's status and every pre-registered test with
its value, interval, p-value and verdict, first in report.html and in DIR/side-by-side.md.

Options:
  --out DIR        output folder (default: report/ inside the first PATH's folder)
  --figures KIND   also write each figure as DIR/figures/NAME.svg (svg), as .svg and .png (png), or
                   not at all (none) (default svg)

Example:
  prefdyn report runs/mix analysis.json --figures png
  prefdyn report runs/full-tiny runs/full-small --out runs/sizes`,
  options: {
    out: { type: 'string' },
    figures: { type: 'string', default: 'svg' },
  },
  positionals: [1, Infinity],
  async run({ positionals, values }) {
    const figures = values.figures as string;
    if (figures !== 'svg' && figures !== 'png' && figures !== 'none')
      throw new UsageError(`--figures must be svg, png or none, got "${figures}"`);
    const out = (values.out as string | undefined) ?? defaultReportFolder(positionals[0]!);
    const written = await writeReport(positionals, { out, figures: figures as FigureFiles });
    for (const note of written.notes) process.stderr.write(`note: ${note}\n`);
    process.stdout.write(`${written.html}\n`);
    if (written.sideBySide) process.stdout.write(`${written.sideBySide}\n`);
  },
};
