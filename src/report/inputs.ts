// What `prefdyn report` reads: run folders (contract 4), `prefdyn reproduce` folders (summary.json and
// the run folders and analyses under it) and analysis JSON files (contract 5). Each PATH is told apart
// by what it holds; anything else is a one-line error naming the path.
import { METRICS_FILE } from '../train/run-folder.js';
import fs from 'node:fs';
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { checkAnalysisInput, type ComparisonReport } from '../analysis/compare-run.js';
import { embeddingsPaths, openEmbeddingsFile } from '../analysis/embeddings-file.js';
import { readRunMetrics, type RunSeries } from '../analysis/run-metrics.js';
import type { ReproduceSummary } from '../experiments/reproduce-summary.js';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';

export interface RunInput {
  kind: 'run';
  path: string;
  series: RunSeries;
}

export interface AnalysisFileInput {
  kind: 'analysis';
  path: string;
  analysis: AnalysisReport;
}

/** One behaviour's embeddings (contract 3): rows [n, d] row-major, labels +1/-1. */
export interface GroupEmbeddings {
  x: Float32Array;
  n: number;
  d: number;
  labels: Int8Array;
}

export interface ReproduceInput {
  kind: 'reproduce';
  path: string;
  summary: ReproduceSummary;
  /** Experiment (a): the protocol behaviours' analysis, their runs together, their comparison. */
  analysis: AnalysisReport;
  single: RunSeries;
  comparison: ComparisonReport;
  /** Experiment (b): one run per pair, in summary order. */
  pairs: RunSeries[];
  /** Experiment (c). */
  align: RunSeries;
  flip: { aligned: RunSeries; base: RunSeries };
  /** The aligned behaviour's embeddings in the base and the aligned model, when the folder has them. */
  embeddings: { before: GroupEmbeddings; after: GroupEmbeddings } | null;
}

export type ReportInput = RunInput | AnalysisFileInput | ReproduceInput;

export function readReportInput(p: string): ReportInput {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${p}: no such file or folder` : `${p}: ${(err as Error).message}`);
  }
  if (st.isFile()) {
    const value = readJsonFile(p);
    checkAnalysisInput(p, value);
    return { kind: 'analysis', path: p, analysis: value as AnalysisReport };
  }
  if (fs.existsSync(path.join(p, METRICS_FILE))) return { kind: 'run', path: p, series: readRunMetrics(p) };
  if (fs.existsSync(path.join(p, 'summary.json'))) return readReproduceFolder(p);
  throw new UserError(
    `${p}: not a run folder (no metrics.jsonl), a \`prefdyn reproduce\` folder (no summary.json) or an analysis JSON file`,
  );
}

function readReproduceFolder(dir: string): ReproduceInput {
  const file = path.join(dir, 'summary.json');
  const summary = readJsonFile(file) as ReproduceSummary;
  for (const key of ['single', 'prioritisation', 'misalignment'] as const)
    if (typeof summary?.[key] !== 'object' || summary[key] === null)
      throw new UserError(`${file}: not a \`prefdyn reproduce\` summary (no "${key}")`);
  const at = (rel: string) => path.join(dir, rel);
  const analysisFile = at(summary.single.analysis);
  const analysis = checkAnalysisInput(analysisFile, readJsonFile(analysisFile)) as unknown as AnalysisReport;
  // The five runs trained alone, merged into one series as experiment (a) compares them.
  const single: RunSeries = new Map([
    ['train', new Map()],
    ['test', new Map()],
  ]);
  for (const b of summary.single.behaviours) {
    const run = readRunMetrics(at(b.run));
    for (const split of ['train', 'test'] as const) single.get(split)!.set(b.group, run.get(split)!.get(b.group) ?? []);
  }
  const m = summary.misalignment;
  return {
    kind: 'reproduce',
    path: dir,
    summary,
    analysis,
    single,
    comparison: readJsonFile(at(path.join('single', 'compare.json'))) as ComparisonReport,
    pairs: summary.prioritisation.pairs.map((p) => readRunMetrics(at(p.run))),
    align: readRunMetrics(at(m.align.run)),
    flip: { aligned: readRunMetrics(at(m.flip.from_aligned.run)), base: readRunMetrics(at(m.flip.from_base.run)) },
    embeddings: readBeforeAfter(dir, m.behaviour),
  };
}

/** <dir>/single/embeddings/<b> (base model) and <dir>/misalignment/embeddings/<b> (aligned), written by reproduce. */
function readBeforeAfter(dir: string, behaviour: string): ReproduceInput['embeddings'] {
  const names = ['single', 'misalignment'].map((e) => path.join(dir, e, 'embeddings', behaviour));
  if (!names.every((n) => fs.existsSync(embeddingsPaths(n).tensors))) return null;
  const [before, after] = names.map((name) => {
    const source = openEmbeddingsFile(name);
    try {
      const { x, labels, d } = source.readGroup(behaviour);
      return { x, labels, d, n: labels.length };
    } finally {
      source.close();
    }
  });
  return { before: before!, after: after! };
}
