// Experiment (a), theory.md s.6-7: each behaviour of the protocol (the paper's five plus a seeded draw)
// trained alone, in each of the protocol's modes and for each of its seeds; each predictor, measured
// on the base model before training, against each observed speed measure.
//   single/analysis.json                     the analysis of every protocol behaviour (one mix)
//   single/<mode>/seed-<s>/<behaviour>/      one run folder per behaviour, mode and seed
//   single/<mode>/seed-<s>/compare.json      compare's report over that seed's runs
//   single/compare.json                      the verdict mode's first seed (what the report's figures draw)
// The tests (one per mode, predictor and measure) rank the behaviours by their observed speed averaged
// over seeds (the mean of the per-seed speed ranks), so seeds count once per behaviour; the per-seed
// Spearman values are the seed spread.
import fs from 'node:fs';
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import {
  compareRun,
  rankCorrelation,
  type AnalysisInput,
  type ComparisonReport,
  type Correlation,
} from '../analysis/compare-run.js';
import { MEASURES } from '../analysis/observed-speed.js';
import { averageRanks } from '../analysis/rank-correlation.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { RunSeries } from '../analysis/run-metrics.js';
import { MISALIGNMENT_BEHAVIOUR } from './behaviours.js';
import {
  compareStep,
  EMBEDDING_POSITIONS,
  seconds,
  type EmbeddingPositionChoice,
  type ExperimentContext,
} from './context.js';
import { spearman } from '../analysis/rank-correlation.js';
import { lastLayerLr, LR_RULE } from './last-layer-lr.js';
import { analyzeModel } from './model-analysis.js';
import { lastLayerRun, loraRun } from './experiment-runs.js';
import type { ProtocolMode } from './protocol.js';
import { combinedStatus, protocolTest, type ProtocolTest } from './protocol-tests.js';
import type { FindingStatus } from './verdicts.js';

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
  /** The verdict mode's first-seed run folder, relative to the output folder. */
  run: string;
  final_test: { loss: number; policy_accuracy: number } | null;
  /** Raw observed speeds of that run per measure (src/analysis/observed-speed.ts); null: not reached. */
  observed: Record<string, number | null>;
  /** Per mode and measure, the raw value averaged over seeds (null when any seed's is null). */
  mean_observed: Record<string, Record<string, number | null>>;
}

/** Delta of the behaviours at both prompt positions and the rank agreement of the two (Spearman). */
export interface PositionAgreement {
  positions: [EmbeddingPositionChoice, EmbeddingPositionChoice];
  /** The analysis at the second position (bootstrap 0), relative to the output folder. */
  analysis: string;
  delta: { group: string; values: [number, number] }[];
  spearman: number;
}

export interface SingleBehavioursResult {
  analysis: string;
  /** Where g(x) was taken for every Delta of this reproduction. */
  embedding_position: EmbeddingPositionChoice;
  position_agreement: PositionAgreement;
  /** E||g||^2 at embedding_position (the scale Delta is read against). */
  mean_squared_norm: number;
  /** E||g||^2 at newline: the g(x) last-layer DPO trains on, which sets lr. */
  lr_mean_squared_norm: number;
  lr: number;
  lr_rule: string;
  k: { [mode: string]: number };
  /** Sorted by decreasing Delta. */
  behaviours: SingleBehaviour[];
  /** The verdict mode's first seed: every predictor against every measure (compare.json). */
  correlations: Correlation[];
  tests: ProtocolTest[];
  /** The tests the finding's status rests on (protocol.verdict): all supported, supported; any not supported, not. */
  verdict_tests: ProtocolTest[];
  /** The first of them. */
  headline: ProtocolTest;
  status: FindingStatus;
}

export interface SingleBehavioursOutput {
  result: SingleBehavioursResult;
  /** The analysis of every protocol behaviour together (for experiment (b)'s predictions and (c)'s "before"). */
  report: AnalysisReport;
}

/** Train-loss measures, which last-layer mode makes close to an identity in Delta (theory.md s.7). */
const TRAIN_LOSS_MEASURES = ['loss_area', 'loss_after_k', 'initial_margin_slope'];

export async function singleBehaviours(ctx: ExperimentContext): Promise<SingleBehavioursOutput> {
  const { profile, protocol, seed } = ctx;
  const behaviours = protocol.behaviours;
  const dir = path.join(ctx.out, 'single');
  const t0 = Date.now();
  const analysisFile = path.join(dir, 'analysis.json');
  const protocolData = ctx.data.source(behaviours, 'protocol');
  const analysis = await analyzeModel(ctx.model, protocolData, {
    position: ctx.position,
    bootstrap: profile.bootstrap,
    seed,
    jsonFile: analysisFile,
    tokenize: ctx.tokenize,
    keep: { group: MISALIGNMENT_BEHAVIOUR, name: path.join(dir, 'embeddings', MISALIGNMENT_BEHAVIOUR) },
  });
  // The other position: Delta's rank agreement between the two, and (when it is newline) the training scale.
  const otherPosition = EMBEDDING_POSITIONS.find((p) => p !== ctx.position)!;
  const otherFile = path.join(dir, `analysis-${otherPosition}.json`);
  const other = await analyzeModel(ctx.model, protocolData, {
    position: otherPosition,
    tokenize: ctx.tokenize,
    bootstrap: 0,
    seed,
    jsonFile: otherFile,
  });
  const trained = ctx.position === 'newline' ? analysis : other;
  const lr = lastLayerLr(profile.beta, trained.meanSquaredNorm, profile.lastLayer.lrScale);
  const agreement = positionAgreement(
    [ctx.position, otherPosition],
    analysis.report,
    other.report,
    path.relative(ctx.out, otherFile),
  );
  ctx.log(
    `[a] analysed ${behaviours.length} behaviours at --position ${ctx.position} and ${otherPosition} (${analysis.cached && other.cached ? 'cached embeddings' : 'embedded'}): Spearman of Delta between them ${agreement.spearman.toFixed(2)}; E||g||^2 at newline = ${trained.meanSquaredNorm.toFixed(1)} -> last-layer lr ${lr} (${seconds(t0)})`,
  );

  const input = independentRunsInput(analysis.report);
  const k: Record<string, number> = {};
  /** mode -> seed -> comparison over that seed's runs */
  const comparisons = new Map<ProtocolMode, ComparisonReport[]>();
  /** mode -> seed -> behaviour -> run folder */
  const runDirs = new Map<ProtocolMode, Map<string, string>[]>();
  const total = protocol.modes.length * protocol.seeds.length * behaviours.length;
  let done = 0;
  for (const mode of protocol.modes) {
    k[mode] = compareStep(mode === 'lora' ? profile.loraAlone.steps : profile.lastLayer.steps);
    comparisons.set(mode, []);
    runDirs.set(mode, []);
    for (const s of protocol.seeds) {
      const seedDir = path.join(dir, mode, `seed-${s}`);
      const series: RunSeries = new Map([
        ['train', new Map()],
        ['test', new Map()],
      ]);
      const dirs = new Map<string, string>();
      for (const b of behaviours) {
        const t = Date.now();
        const data = ctx.data.source([b], b);
        const runDir = path.join(seedDir, b);
        const run =
          mode === 'lora'
            ? await loraRun(ctx, runDir, data, profile.loraAlone, { seed: s })
            : await lastLayerRun(ctx, runDir, data, lr, { seed: s });
        // Each run holds one behaviour (and "all"): together they are the series of independent runs.
        for (const split of ['train', 'test'] as const) series.get(split)!.set(b, run.series.get(split)!.get(b) ?? []);
        dirs.set(b, path.relative(ctx.out, run.dir));
        const last = run.series.get('test')!.get(b)?.at(-1);
        ctx.log(
          `[a] ${++done}/${total} ${mode} DPO, seed ${s}, on ${b}: test loss ${last?.loss.toFixed(4) ?? '-'} (${seconds(t)})`,
        );
      }
      const comparison = compareRun(input, series, {
        k: k[mode]!,
        bootstrap: profile.bootstrap,
        seed: s,
        rule: protocol.decision,
      });
      fs.mkdirSync(seedDir, { recursive: true });
      writeJsonAtomic(path.join(seedDir, 'compare.json'), comparison);
      comparisons.get(mode)!.push(comparison);
      runDirs.get(mode)!.push(dirs);
    }
  }

  const byName = new Map(analysis.report.groups.map((g) => [g.group, g]));
  const solo = (b: string) => {
    const i = analysis.report.gram.groups.indexOf(b);
    return analysis.report.gram.cc[i]![i]!;
  };
  const scores = predictorScores(analysis.report, behaviours, solo);
  const tests: ProtocolTest[] = [];
  for (const mode of protocol.modes) {
    const perSeed = comparisons.get(mode)!;
    for (const predictor of protocol.predictors) {
      const x = scores.get(predictor);
      if (!x) continue; // an analysis without this predictor (a degenerate group)
      for (const measure of protocol.measures) {
        const speedOf = (c: ComparisonReport) => {
          const m = MEASURES.find((mm) => mm.name === measure)!;
          return behaviours.map((b) => m.speed(c.groups.find((g) => g.group === b)!.observed[measure] ?? null));
        };
        // Mean over seeds of each behaviour's speed rank (ties share their average rank).
        const ranks = perSeed.map((c) => averageRanks(speedOf(c)));
        const meanRank = behaviours.map((_, i) => ranks.reduce((sum, r) => sum + r[i]!, 0) / ranks.length);
        const c = rankCorrelation(predictor as Correlation['predictor'], measure, x, meanRank, {
          k: k[mode]!,
          bootstrap: profile.bootstrap,
          seed,
          rule: protocol.decision,
        });
        const test = protocolTest(
          c,
          mode,
          protocol.seeds,
          perSeed.map(
            (cmp) => cmp.correlations.find((r) => r.predictor === predictor && r.measure === measure)?.spearman ?? NaN,
          ),
        );
        if (mode === 'last-layer' && TRAIN_LOSS_MEASURES.includes(measure))
          test.note = 'last-layer train loss: close to an identity in Delta (theory.md s.7)';
        tests.push(test);
      }
    }
  }

  const verdictMode = protocol.verdict.mode;
  const first = comparisons.get(verdictMode)![0]!;
  writeJsonAtomic(path.join(dir, 'compare.json'), first);
  const rankBy = (score: (b: string) => number) => (b: string) =>
    1 + behaviours.filter((o) => score(o) > score(b)).length;
  const delta = (b: string) => byName.get(b)!.delta;
  const rows: SingleBehaviour[] = [...behaviours]
    .sort((x, y) => delta(y) - delta(x))
    .map((b) => {
      const g = byName.get(b)!;
      const run = runDirs.get(verdictMode)![0]!.get(b)!;
      const observed = first.groups.find((c) => c.group === b)!.observed;
      const mean_observed: SingleBehaviour['mean_observed'] = {};
      for (const mode of protocol.modes) {
        mean_observed[mode] = {};
        for (const m of MEASURES) {
          const values = comparisons.get(mode)!.map((c) => c.groups.find((x) => x.group === b)!.observed[m.name]);
          mean_observed[mode]![m.name] = values.some((v) => v === null || v === undefined)
            ? null
            : values.reduce((s: number, v) => s + v!, 0) / values.length;
        }
      }
      const loss = observed.final_test_loss ?? null;
      const accuracy = observed.final_test_accuracy ?? null;
      return {
        group: b,
        n_pairs: g.n_pos + g.n_neg,
        delta: g.delta,
        delta_ci: g.delta_ci,
        concentration: g.concentration,
        solo_velocity: solo(b),
        rank_by_delta: rankBy(delta)(b),
        rank_by_velocity: rankBy(solo)(b),
        run,
        final_test: loss === null || accuracy === null ? null : { loss, policy_accuracy: accuracy },
        observed,
        mean_observed,
      };
    });
  const verdictTests = tests.filter(
    (t) =>
      t.mode === verdictMode &&
      t.predictor === protocol.verdict.predictor &&
      protocol.verdict.measures.includes(t.measure),
  );
  return {
    result: {
      analysis: path.relative(ctx.out, analysisFile),
      embedding_position: ctx.position,
      position_agreement: agreement,
      mean_squared_norm: analysis.meanSquaredNorm,
      lr_mean_squared_norm: trained.meanSquaredNorm,
      lr,
      lr_rule: LR_RULE,
      k,
      behaviours: rows,
      correlations: first.correlations,
      tests,
      verdict_tests: verdictTests,
      headline: verdictTests[0]!,
      status: combinedStatus(verdictTests.map((t) => t.decision)),
    },
    report: analysis.report,
  };
}

/** Each predictor's score per behaviour (larger = predicted faster), in `behaviours` order. */
function predictorScores(
  a: AnalysisReport,
  behaviours: readonly string[],
  solo: (b: string) => number,
): Map<string, number[]> {
  const row = (b: string) => a.groups.find((g) => g.group === b)!;
  const out = new Map<string, number[]>([
    ['margin_velocity', behaviours.map(solo)],
    ['delta', behaviours.map((b) => row(b).delta)],
  ]);
  for (const key of ['delta_over_sqrt_concentration', 'fisher'] as const) {
    const values = behaviours.map((b) => row(b)[key]);
    if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) out.set(key, values as number[]);
  }
  return out;
}

/** Delta per behaviour at two positions (reports a and b of the same behaviours; b written to analysisOfB) and Spearman's rho between them. */
export function positionAgreement(
  positions: [EmbeddingPositionChoice, EmbeddingPositionChoice],
  a: AnalysisReport,
  b: AnalysisReport,
  analysisOfB: string,
): PositionAgreement {
  const delta = a.groups.map((g) => {
    const other = b.groups.find((o) => o.group === g.group);
    if (!other) throw new Error(`positionAgreement: behaviour ${g.group} missing at ${positions[1]}`);
    return { group: g.group, values: [g.delta, other.delta] as [number, number] };
  });
  const spearmanRho = spearman(
    delta.map((x) => x.values[0]),
    delta.map((x) => x.values[1]),
  );
  return { positions, analysis: analysisOfB, delta, spearman: spearmanRho };
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
