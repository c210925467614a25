// Experiment (a), theory.md s.6: each of the paper's five behaviours trained alone with last-layer DPO;
// their distinguishability Delta (measured before training) against how fast each was learned.
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { compareRun, type AnalysisInput, type Correlation } from '../analysis/compare-run.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { RunSeries } from '../analysis/run-metrics.js';
import { MISALIGNMENT_BEHAVIOUR, PAPER_BEHAVIOURS } from './behaviours.js';
import { compareStep, seconds, type ExperimentContext } from './context.js';
import { lastLayerLr, LR_RULE } from './last-layer-lr.js';
import { analyzeModel } from './model-analysis.js';
import { lastLayerRun } from './last-layer-run.js';
import { correlationStatus, HEADLINE_MEASURE, type FindingStatus } from './verdicts.js';

export interface SingleBehaviour {
  group: string;
  n_pairs: number;
  delta: number;
  delta_ci: [number, number] | null;
  concentration: number;
  /** ||c_b||^2, c_b = mean of s g over the behaviour: its exact initial margin velocity when trained alone (theory.md s.4). */
  solo_velocity: number;
  rank_by_delta: number;
  rank_by_velocity: number;
  /** The run folder, relative to the output folder. */
  run: string;
  final_test: { loss: number; policy_accuracy: number } | null;
  /** Raw observed speeds per measure (src/analysis/observed-speed.ts); null: not reached. */
  observed: Record<string, number | null>;
}

export interface SingleBehavioursResult {
  analysis: string;
  mean_squared_norm: number;
  lr: number;
  lr_rule: string;
  k: number;
  /** Sorted by decreasing Delta. */
  behaviours: SingleBehaviour[];
  correlations: Correlation[];
  headline: Correlation;
  status: FindingStatus;
}

export interface SingleBehavioursOutput {
  result: SingleBehavioursResult;
  /** The analysis of the five together (for experiment (b)'s predictions and (c)'s "before"). */
  report: AnalysisReport;
}

export async function singleBehaviours(ctx: ExperimentContext): Promise<SingleBehavioursOutput> {
  const { profile, seed } = ctx;
  const dir = path.join(ctx.out, 'single');
  const steps = profile.lastLayer.steps;
  const t0 = Date.now();
  const analysisFile = path.join(dir, 'analysis.json');
  const analysis = await analyzeModel(ctx.model, ctx.data.source(PAPER_BEHAVIOURS, 'five'), {
    bootstrap: profile.bootstrap,
    seed,
    jsonFile: analysisFile,
    tokenize: ctx.tokenize,
    keep: { group: MISALIGNMENT_BEHAVIOUR, name: path.join(dir, 'embeddings', MISALIGNMENT_BEHAVIOUR) },
  });
  const lr = lastLayerLr(profile.beta, analysis.meanSquaredNorm, profile.lastLayer.lrScale);
  ctx.log(
    `[a] analysed ${PAPER_BEHAVIOURS.length} behaviours (${analysis.cached ? 'cached embeddings' : 'embedded'}), E||g||^2 = ${analysis.meanSquaredNorm.toFixed(1)} -> last-layer lr ${lr} (${seconds(t0)})`,
  );

  const series: RunSeries = new Map([
    ['train', new Map()],
    ['test', new Map()],
  ]);
  const runs = new Map<string, { run: string; finalTest: SingleBehaviour['final_test'] }>();
  for (const [i, b] of PAPER_BEHAVIOURS.entries()) {
    const t = Date.now();
    const run = await lastLayerRun(ctx, path.join(dir, 'runs', b), ctx.data.source([b], b), lr);
    // Each run holds one behaviour (and "all"): together they are the series of five independent runs.
    for (const split of ['train', 'test'] as const) series.get(split)!.set(b, run.series.get(split)!.get(b) ?? []);
    const last = run.series.get('test')!.get(b)?.at(-1);
    const finalTest = last ? { loss: last.loss, policy_accuracy: last.policyAccuracy } : null;
    runs.set(b, { run: path.relative(ctx.out, run.dir), finalTest });
    ctx.log(
      `[a] ${i + 1}/${PAPER_BEHAVIOURS.length} last-layer DPO on ${b}: ${steps} steps, test loss ${finalTest?.loss.toFixed(4) ?? '-'} (${seconds(t)})`,
    );
  }

  const k = compareStep(steps);
  const comparison = compareRun(independentRunsInput(analysis.report), series, {
    k,
    bootstrap: profile.bootstrap,
    seed,
  });
  writeJsonAtomic(path.join(dir, 'compare.json'), comparison);
  const byName = new Map(analysis.report.groups.map((g) => [g.group, g]));
  const rankBy = (score: (b: string) => number) => (b: string) =>
    1 + PAPER_BEHAVIOURS.filter((o) => score(o) > score(b)).length;
  const soloVelocity = (b: string) =>
    analysis.report.gram.cc[analysis.report.gram.groups.indexOf(b)]![analysis.report.gram.groups.indexOf(b)]!;
  const delta = (b: string) => byName.get(b)!.delta;
  const behaviours: SingleBehaviour[] = [...PAPER_BEHAVIOURS]
    .sort((x, y) => delta(y) - delta(x))
    .map((b) => {
      const g = byName.get(b)!;
      return {
        group: b,
        n_pairs: g.n_pos + g.n_neg,
        delta: g.delta,
        delta_ci: g.delta_ci,
        concentration: g.concentration,
        solo_velocity: soloVelocity(b),
        rank_by_delta: rankBy(delta)(b),
        rank_by_velocity: rankBy(soloVelocity)(b),
        run: runs.get(b)!.run,
        final_test: runs.get(b)!.finalTest,
        observed: comparison.groups.find((c) => c.group === b)!.observed,
      };
    });
  const headline = comparison.correlations.find((c) => c.predictor === 'delta' && c.measure === HEADLINE_MEASURE)!;
  return {
    result: {
      analysis: path.relative(ctx.out, analysisFile),
      mean_squared_norm: analysis.meanSquaredNorm,
      lr,
      lr_rule: LR_RULE,
      k,
      behaviours,
      correlations: comparison.correlations,
      headline,
      status: correlationStatus(headline),
    },
    report: analysis.report,
  };
}

/**
 * The analysis as compareRun should see runs trained alone: no behaviour shares an update with another,
 * so each one's predicted velocity is its solo velocity cc[b][b]. compareRun weighs cc by the mix
 * shares w_b = n_b / sum n, hence the diagonal is divided by w_b and the cross terms are zero.
 */
export function independentRunsInput(a: AnalysisReport): AnalysisInput {
  const counts = a.gram.groups.map((g) => {
    const row = a.groups.find((r) => r.group === g)!;
    return row.n_pos + row.n_neg;
  });
  const total = counts.reduce((s, n) => s + n, 0);
  const diagonal = (m: number[][], scale: (i: number) => number) =>
    m.map((row, i) => row.map((v, j) => (i === j ? v * scale(i) : 0)));
  return {
    groups: a.groups,
    gram: {
      groups: a.gram.groups,
      dd: diagonal(a.gram.dd, () => 1),
      cc: diagonal(a.gram.cc, (i) => total / counts[i]!),
    },
  };
}
