// Which figures a set of report inputs (inputs.ts) makes, and a note for each figure kind that they
// cannot make. Runs are compared with the first analysis given, as `prefdyn compare` does.
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { compareRun } from '../analysis/compare-run.js';
import type { RunSeries } from '../analysis/run-metrics.js';
import { HEADLINE_MEASURE } from '../experiments/verdicts.js';
import { UserError } from '../util/errors.js';
import {
  curvesSpec,
  deltaChangeSpec,
  embeddingCloudsSpec,
  flipCurvesSpec,
  pairCurvesSpec,
  predictorSpec,
  priorityHeatmapSpec,
  weightNormsSpec,
  type Cloud,
  type FigureSpec,
  type PairCheck,
} from './figure-specs.js';
import type { GroupEmbeddings, ReportInput } from './inputs.js';
import { pca2, umap2, UMAP_MIN_ROWS } from './projection.js';
import { Rng } from '../util/rng.js';

export interface ReportContent {
  /** Figures per input, in the order the inputs were given. */
  sections: { heading: string; figures: FigureSpec[]; analysis?: AnalysisReport }[];
  /** Figure kinds that could not be made, and why. */
  notes: string[];
}

export interface ReportSettings {
  /** Seed of the bootstrap of run-vs-analysis correlations and of the projections. */
  seed: number;
  /** Step at which "loss after k" and the initial margin slope are read (as `prefdyn compare --k`). */
  k: number;
  bootstrap: number;
}

export const DEFAULT_REPORT_SETTINGS: ReportSettings = { seed: 1234, k: 10, bootstrap: 1000 };

/** Rows per embedding cloud (a seeded sample of larger groups): enough to see two clouds, fast for UMAP. */
export const CLOUD_ROWS = 400;

const FIGURE_KINDS = [
  'per-behaviour curves',
  'predictors against observed speed',
  'priority-gap heatmap',
  'misalignment',
  'embedding clouds',
  'weight-change norms',
] as const;

export function reportContent(inputs: ReportInput[], settings = DEFAULT_REPORT_SETTINGS): ReportContent {
  const made = new Set<string>();
  const sections: ReportContent['sections'] = [];
  const names = new Set<string>();
  // Figure names must be unique in figures/: prefix each input's with its folder or file name; a
  // reproduction's with "reproduce", so that its REPORT.md is the same whatever folder it was written to.
  const prefixOf = (input: ReportInput) => {
    const base =
      input.kind === 'reproduce'
        ? 'reproduce'
        : path
            .basename(path.resolve(input.path))
            .replace(/\.json$/, '')
            .replace(/[^A-Za-z0-9_.-]+/g, '-') || 'input';
    let name = base;
    for (let i = 2; names.has(name); i++) name = `${base}-${i}`;
    names.add(name);
    return name;
  };
  const firstAnalysis = inputs.find((i) => i.kind === 'analysis')?.analysis;
  for (const input of inputs) {
    const prefix = prefixOf(input);
    const figures: FigureSpec[] = [];
    const add = (kind: (typeof FIGURE_KINDS)[number], f: FigureSpec | null) => {
      if (!f) return;
      made.add(kind);
      figures.push(f);
    };
    const name = (s: string) => `${prefix}-${s}`;
    if (input.kind === 'run') {
      const delta = firstAnalysis ? deltaMap(firstAnalysis) : undefined;
      add(
        'per-behaviour curves',
        curvesSpec(input.series, { name: name('curves'), title: 'Per-behaviour curves', delta }),
      );
      if (firstAnalysis && comparable(input.series, firstAnalysis)) {
        const cmp = compareRun(firstAnalysis, input.series, settings);
        add(
          'predictors against observed speed',
          predictorSpec(cmp, { name: name('predictors'), title: 'Predicted against observed speed' }),
        );
        const headline = cmp.priority.find((p) => p.measure === HEADLINE_MEASURE)!;
        if (hasPriority(firstAnalysis))
          add(
            'priority-gap heatmap',
            priorityHeatmapSpec(firstAnalysis.priority, {
              name: name('priority'),
              title: `Priority gap, marked by the run (${HEADLINE_MEASURE})`,
              checks: headline.pairs,
            }),
          );
      }
      add('weight-change norms', weightNormsSpec(input.series, { name: name('weights'), title: 'Weight change' }));
      sections.push({ heading: `Run ${input.path}`, figures });
    } else if (input.kind === 'analysis') {
      // The first analysis's matrix is already shown, marked, with each run compared with it.
      const shownWithRun =
        input.analysis === firstAnalysis && inputs.some((i) => i.kind === 'run' && comparable(i.series, firstAnalysis));
      if (!shownWithRun && hasPriority(input.analysis))
        add(
          'priority-gap heatmap',
          priorityHeatmapSpec(input.analysis.priority, { name: name('priority'), title: 'Priority gap' }),
        );
      sections.push({ heading: `Analysis ${input.path}`, figures, analysis: input.analysis });
    } else {
      const s = input.summary;
      add(
        'per-behaviour curves',
        curvesSpec(input.single, {
          name: name('curves'),
          title: '(a) Each behaviour trained alone (last-layer DPO)',
          delta: deltaMap(input.analysis),
        }),
      );
      add(
        'predictors against observed speed',
        predictorSpec(input.comparison, { name: name('predictors'), title: '(a) Delta against learning speed' }),
      );
      const checks: PairCheck[] = s.prioritisation.pairs.map((p) => ({
        first: p.predicted_first,
        second: p.groups.find((g) => g !== p.predicted_first)!,
        came_true: p.outcomes.find((o) => o.measure === HEADLINE_MEASURE)?.came_true ?? null,
      }));
      add(
        'priority-gap heatmap',
        priorityHeatmapSpec(input.analysis.priority, {
          name: name('priority'),
          title: `(b) Priority gap of the protocol's behaviours, pairs trained together marked (${HEADLINE_MEASURE})`,
          checks,
        }),
      );
      figures.push(
        pairCurvesSpec(
          s.prioritisation.pairs.map((p, i) => ({
            title: `pair ${i + 1}`,
            series: input.pairs[i]!,
            groups: p.groups,
            predictedFirst: p.predicted_first,
          })),
          { name: name('pairs'), title: '(b) The two behaviours of each pair, trained together' },
        ),
      );
      const m = s.misalignment;
      add(
        'misalignment',
        flipCurvesSpec(
          { ...input.flip, behaviour: m.behaviour },
          { name: name('flip'), title: '(c) Learning the flipped preferences' },
        ),
      );
      figures.push(
        deltaChangeSpec(m.delta, {
          name: name('delta-change'),
          title: '(c) Delta before and after alignment',
          aligned: m.behaviour,
        }),
      );
      if (input.embeddings)
        add(
          'embedding clouds',
          embeddingCloudsSpec(clouds(input.embeddings, settings.seed), {
            name: name('clouds'),
            title: `(c) Prompt embeddings of ${m.behaviour}`,
            behaviour: m.behaviour,
            model: { before: 'base model', after: 'aligned model' },
          }),
        );
      add(
        'weight-change norms',
        weightNormsSpec(input.align, { name: name('weights'), title: '(c) Weight change during LoRA alignment' }),
      );
      sections.push({ heading: `Reproduction ${input.path}`, figures, analysis: input.analysis });
    }
  }
  const notes = FIGURE_KINDS.filter((k) => !made.has(k)).map((k) => `No ${k}: ${MISSING[k]}`);
  if (sections.every((s) => s.figures.length === 0 && !s.analysis))
    throw new UserError('nothing to report: the inputs make no figure and hold no analysis');
  return { sections, notes };
}

const MISSING: Record<(typeof FIGURE_KINDS)[number], string> = {
  'per-behaviour curves': 'give a run folder or a reproduce folder.',
  'predictors against observed speed':
    'give a run folder and an analysis JSON of at least two of its behaviours (or a reproduce folder).',
  'priority-gap heatmap': 'give an analysis JSON of two or more behaviours (or a reproduce folder).',
  misalignment: 'give a `prefdyn reproduce` folder (experiment (c) trains the flips).',
  'embedding clouds':
    'give a `prefdyn reproduce` folder written by this version (it keeps the aligned behaviour\u2019s embeddings before and after).',
  'weight-change norms': 'the run folders log no weights/* metrics.',
};

/** The analysis holds a priority matrix (contract 5's "priority") of two or more behaviours. */
function hasPriority(a: AnalysisReport): boolean {
  return Array.isArray(a.priority?.groups) && a.priority.groups.length >= 2 && Array.isArray(a.priority.gap);
}

/** A run can be compared with an analysis when they share two or more behaviours. */
function comparable(series: RunSeries, a: AnalysisReport): boolean {
  const known = new Set(a.gram.groups);
  return [...series.get('train')!.keys()].filter((g) => g !== 'all' && known.has(g)).length >= 2;
}

function deltaMap(a: AnalysisReport): Map<string, number> {
  return new Map(a.groups.map((g) => [g.group, g.delta]));
}

/** UMAP and PCA of the before and after embeddings, each on a seeded sample of at most CLOUD_ROWS rows. */
export function clouds(e: { before: GroupEmbeddings; after: GroupEmbeddings }, seed: number): Cloud[] {
  const out: Cloud[] = [];
  for (const when of ['before', 'after'] as const) {
    const g = sample(e[when], seed);
    const pca = pca2(g.x, g.n, g.d, seed);
    out.push({ method: 'PCA', when, x: pca.x, y: pca.y, labels: g.labels });
    if (g.n >= UMAP_MIN_ROWS) {
      const u = umap2(g.x, g.n, g.d, seed);
      out.push({ method: 'UMAP', when, x: u.x, y: u.y, labels: g.labels });
    }
  }
  return out.sort((a, b) => (a.method === b.method ? 0 : a.method === 'UMAP' ? -1 : 1));
}

function sample(g: GroupEmbeddings, seed: number): GroupEmbeddings {
  if (g.n <= CLOUD_ROWS) return g;
  // Same rows before and after (the rows of both files are in the same order).
  const keep = new Rng(seed)
    .permutation(g.n)
    .slice(0, CLOUD_ROWS)
    .sort((a, b) => a - b);
  const x = new Float32Array(keep.length * g.d);
  keep.forEach((r, i) => x.set(g.x.subarray(r * g.d, (r + 1) * g.d), i * g.d));
  return { x, n: keep.length, d: g.d, labels: Int8Array.from(keep, (r) => g.labels[r]!) };
}
