// `prefdyn report` (and the end of `prefdyn reproduce`): reads the inputs, renders every figure and
// writes OUT/report.html, plus OUT/figures/NAME.svg (and .png) when asked, and with two or more
// reproductions OUT/side-by-side.md (and the same tables first in report.html). figures/ is replaced whole
// (no figure of an earlier report left beside the new ones; --figures none leaves it alone); report.html
// is written last.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeFolderAtomic } from '../util/atomic-write.js';
import { checkOutputFolder } from '../util/output-path.js';
import { readReportInput } from './inputs.js';
import { pngOf, svgOf } from './render.js';
import { reportContent, DEFAULT_REPORT_SETTINGS, type ReportSettings } from './report-figures.js';
import { reportHtml, type RenderedSection } from './report-html.js';
import { SIDE_BY_SIDE_TITLE, sideBySideHtml, sideBySideMarkdown, type Reproduction } from './side-by-side.js';

export type FigureFiles = 'svg' | 'png' | 'none';

export interface WrittenReport {
  html: string;
  /** Figure files written, relative to the output folder, with their titles. */
  figures: { file: string; title: string }[];
  notes: string[];
  /** OUT/side-by-side.md, written when two or more reproductions were given; else null. */
  sideBySide: string | null;
}

export const FIGURES_FOLDER = 'figures';
const SIDE_BY_SIDE = 'side-by-side.md';

export async function writeReport(
  paths: string[],
  o: { out: string; figures: FigureFiles; settings?: ReportSettings },
): Promise<WrittenReport> {
  checkOutputFolder('--out', o.out);
  const inputs = paths.map(readReportInput);
  const content = reportContent(inputs, o.settings ?? DEFAULT_REPORT_SETTINGS);
  const files = new Map<string, string | Buffer>();
  const sections: RenderedSection[] = [];
  for (const s of content.sections) {
    const figures: RenderedSection['figures'] = [];
    for (const figure of s.figures) {
      const svg = await svgOf(figure.spec);
      const own: string[] = [];
      if (o.figures !== 'none') {
        own.push(`${FIGURES_FOLDER}/${figure.name}.svg`);
        files.set(`${figure.name}.svg`, svg);
      }
      if (o.figures === 'png') {
        own.push(`${FIGURES_FOLDER}/${figure.name}.png`);
        files.set(`${figure.name}.png`, pngOf(svg));
      }
      figures.push({ figure, svg, files: own });
    }
    sections.push({ heading: s.heading, figures, analysis: s.analysis });
  }
  const figuresDir = path.join(o.out, FIGURES_FOLDER);
  if (files.size > 0)
    writeFolderAtomic(figuresDir, (tmp) => {
      for (const [name, data] of files) fs.writeFileSync(path.join(tmp, name), data);
    });
  const reproductions: Reproduction[] = inputs.flatMap((i, k) =>
    i.kind === 'reproduce' ? [{ path: paths[k]!, summary: i.summary }] : [],
  );
  const sideBySide = reproductions.length >= 2 ? path.join(o.out, SIDE_BY_SIDE) : null;
  if (sideBySide) writeFileAtomic(sideBySide, sideBySideMarkdown(reproductions));
  else removeStaleSideBySide(path.join(o.out, SIDE_BY_SIDE));
  const html = path.join(o.out, 'report.html');
  writeFileAtomic(html, reportHtml(sections, content.notes, paths, sideBySide ? sideBySideHtml(reproductions) : ''));
  const figureFiles = sections.flatMap((s) =>
    s.figures.flatMap((f) => f.files.map((file) => ({ file, title: f.figure.title }))),
  );
  return { html, figures: figureFiles, notes: content.notes, sideBySide };
}

/** An earlier report's side-by-side.md, now stale; a file of that name that prefdyn did not write stays. */
function removeStaleSideBySide(file: string): void {
  let head: string;
  try {
    head = fs.readFileSync(file, 'utf8').slice(0, SIDE_BY_SIDE_TITLE.length);
  } catch {
    return; // none there
  }
  if (head === SIDE_BY_SIDE_TITLE) fs.rmSync(file);
}

/**
 * The end of `prefdyn reproduce`: report.html and figures/ (SVG and PNG) beside REPORT.md, and a
 * "Figures" section appended to REPORT.md that shows each figure's PNG and links its SVG.
 */
export async function reportReproduction(out: string): Promise<WrittenReport> {
  const written = await writeReport([out], { out, figures: 'png' });
  const md = path.join(out, 'REPORT.md');
  const lines = ['', '## Figures', '', `All figures, with captions: [report.html](report.html).`, ''];
  for (const f of written.figures.filter((f) => f.file.endsWith('.png')))
    lines.push(`![${f.title}](${f.file})`, '', `[${f.title} (SVG)](${f.file.replace(/\.png$/, '.svg')})`, '');
  writeFileAtomic(md, fs.readFileSync(md, 'utf8').trimEnd() + '\n' + lines.join('\n'));
  return written;
}
