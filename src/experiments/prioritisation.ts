// Experiment (b), theory.md s.4 and s.6: two behaviours trained together with last-layer DPO. The
// official code's priority gap (and the exact initial margin velocity in the pair's mix) predict
// which one is learned first; the run's per-group metrics say which one was.
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { compareRun } from '../analysis/compare-run.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { PAPER_BEHAVIOURS, prioritisationPairs } from './behaviours.js';
import { compareStep, seconds, type ExperimentContext } from './context.js';
import { lastLayerRun } from './experiment-runs.js';
import { pairwiseVerdict } from '../analysis/decision-rule.js';
import { HEADLINE_MEASURE, type FindingStatus } from './verdicts.js';

export interface PairOutcome {
  measure: string;
  /** The behaviour observed to be learned faster by this measure; null: a tie. */
  observed_first: string | null;
  came_true: boolean | null;
}

export interface PrioritisedPair {
  groups: [string, string];
  delta: [number, number];
  run: string;
  /** By the sign of the official priority gap. */
  predicted_first: string;
  priority_gap: number;
  /** margin_velocity of each group in the pair's mix (theory.md s.4), in `groups` order. */
  margin_velocity: [number, number];
  velocity_first: string;
  outcomes: PairOutcome[];
}

export interface PrioritisationResult {
  k: number;
  pairs: PrioritisedPair[];
  /** Over pairs, on the headline measure. */
  headline: { measure: string; hits: number; decided: number };
  /** Over pairs x measures. */
  all_measures: { hits: number; decided: number };
  /** One-sided sign test of the headline hits (analysis/rank-tests.ts); pairs sharing a behaviour make it approximate. */
  p_value: number;
  status: FindingStatus;
}

export async function prioritisation(
  ctx: ExperimentContext,
  analysis: AnalysisReport,
  lr: number,
): Promise<PrioritisationResult> {
  const { profile, seed } = ctx;
  const dir = path.join(ctx.out, 'prioritisation');
  const steps = profile.lastLayer.steps;
  const k = compareStep(steps);
  const byDelta = analysis.groups
    .filter((g) => (PAPER_BEHAVIOURS as readonly string[]).includes(g.group))
    .sort((a, b) => b.delta - a.delta);
  const deltaOf = (g: string) => byDelta.find((r) => r.group === g)!.delta;
  const pairs: PrioritisedPair[] = [];
  const chosen = prioritisationPairs(byDelta.map((g) => g.group));
  for (const [i, groups] of chosen.entries()) {
    const t = Date.now();
    const name = `pair-${i + 1}`;
    const run = await lastLayerRun(ctx, path.join(dir, 'runs', name), ctx.data.source(groups, name), lr);
    const cmp = compareRun(analysis, run.series, { k, bootstrap: 0, seed });
    writeJsonAtomic(path.join(dir, `${name}.compare.json`), cmp);
    const inOrder = groups.map((g) => cmp.groups.find((c) => c.group === g)!);
    const predicted = cmp.priority[0]!.pairs[0];
    if (!predicted) throw new Error(`${groups.join(' + ')}: the priority gap is exactly 0; no order is predicted`);
    const outcomes = cmp.priority.map((p): PairOutcome => {
      const c = p.pairs[0]!;
      return {
        measure: p.measure,
        came_true: c.came_true,
        observed_first: c.came_true === null ? null : c.came_true ? c.first : c.second,
      };
    });
    const velocity: [number, number] = [inOrder[0]!.margin_velocity, inOrder[1]!.margin_velocity];
    pairs.push({
      groups,
      delta: [deltaOf(groups[0]), deltaOf(groups[1])],
      run: path.relative(ctx.out, run.dir),
      predicted_first: predicted.first,
      priority_gap: predicted.gap,
      margin_velocity: velocity,
      velocity_first: velocity[0] >= velocity[1] ? groups[0] : groups[1],
      outcomes,
    });
    const headline = outcomes.find((o) => o.measure === HEADLINE_MEASURE)!;
    ctx.log(
      `[b] ${i + 1}/${chosen.length} ${groups[0]} + ${groups[1]}: predicted first ${predicted.first}, observed first ${headline.observed_first ?? 'tie'} (${seconds(t)})`,
    );
  }
  const count = (outcomes: PairOutcome[]) => ({
    hits: outcomes.filter((o) => o.came_true === true).length,
    decided: outcomes.filter((o) => o.came_true !== null).length,
  });
  const headline = {
    measure: HEADLINE_MEASURE,
    ...count(pairs.map((p) => p.outcomes.find((o) => o.measure === HEADLINE_MEASURE)!)),
  };
  const { decision: status, p_value } = pairwiseVerdict(headline.hits, headline.decided);
  return {
    k,
    pairs,
    headline,
    all_measures: count(pairs.flatMap((p) => p.outcomes)),
    p_value,
    status,
  };
}
