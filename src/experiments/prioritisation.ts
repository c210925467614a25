// Experiment (b), theory.md s.4, s.6 and s.7: behaviours trained together with last-layer DPO.
// The official code's priority gap orders two behaviours exactly as their Deltas do (s.7), so pairs far
// apart in Delta only repeat finding 1. The informative cases, all fixed before any run:
//   pairs     of the protocol's behaviours across gap sizes (the closest, the median and the farthest
//             in Delta), and two with unequal group sizes (the more distinguishable behaviour keeps a
//             quarter of its pairs), where the shared update's prediction (the margin velocity with the
//             mix's shares and cross terms, s.4) and the gap's sign can disagree;
//   mix       every protocol behaviour trained together: the shared-update prediction against each
//             behaviour's observed speed, a rank test over all of them (finding 2's verdict).
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { compareRun } from '../analysis/compare-run.js';
import { pairwiseVerdict, type Verdict } from '../analysis/decision-rule.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { prioritisationPairs, type PairKind } from './behaviours.js';
import { compareStep, seconds, type ExperimentContext } from './context.js';
import { lastLayerRun } from './experiment-runs.js';
import { combinedStatus, protocolTest, type ProtocolTest } from './protocol-tests.js';
import type { FindingStatus } from './verdicts.js';

export interface PairOutcome {
  measure: string;
  /** The behaviour observed to be learned faster by this measure; null: a tie. */
  observed_first: string | null;
  /** Did the official gap's prediction come true (null: a tie)? */
  came_true: boolean | null;
  /** Did the shared-update prediction (velocity_first) come true? */
  velocity_came_true: boolean | null;
}

export interface PrioritisedPair {
  kind: PairKind;
  /** Higher Delta first. */
  groups: [string, string];
  delta: [number, number];
  /** Pairs of each behaviour in the run (unequal pairs keep a quarter of the first's). */
  pairs_per_group: [number, number];
  run: string;
  predicted_first: string;
  priority_gap: number;
  /** margin_velocity of each group in the pair's mix (theory.md s.4), in `groups` order. */
  margin_velocity: [number, number];
  velocity_first: string;
  outcomes: PairOutcome[];
}

/** A sign test over the pairs of one prediction on one measure. */
export interface PairTest {
  prediction: 'priority_gap' | 'margin_velocity';
  measure: string;
  hits: number;
  decided: number;
  p_value: number;
  decision: Verdict;
}

export interface PrioritisationResult {
  k: number;
  pairs: PrioritisedPair[];
  /** Both predictions over the pairs, on every protocol measure. */
  pair_tests: PairTest[];
  mix: {
    run: string;
    n_behaviours: number;
    /** margin_velocity and delta against every protocol measure. */
    tests: ProtocolTest[];
    /** margin_velocity against the protocol's verdict measures: the finding's status. */
    verdict_tests: ProtocolTest[];
    /** The official gap over all pairs of the mix (sign test; the pairs share behaviours: approximate). */
    priority: { measure: string; hits: number; decided: number; p_value: number; decision: Verdict };
  };
  status: FindingStatus;
}

/** Unequal pairs: the more distinguishable behaviour keeps this share of its pairs. */
const UNEQUAL_SHARE = 0.25;

export async function prioritisation(
  ctx: ExperimentContext,
  analysis: AnalysisReport,
  lr: number,
): Promise<PrioritisationResult> {
  const { profile, protocol, seed } = ctx;
  const dir = path.join(ctx.out, 'prioritisation');
  const k = compareStep(profile.lastLayer.steps);
  const deltaOf = (g: string) => analysis.groups.find((r) => r.group === g)!.delta;
  const chosen = prioritisationPairs(new Map(protocol.behaviours.map((b) => [b, deltaOf(b)])));
  const pairs: PrioritisedPair[] = [];
  for (const [i, { groups, kind }] of chosen.entries()) {
    const t = Date.now();
    const name = `pair-${i + 1}`;
    const shares = new Map(kind === 'unequal' ? [[groups[0], UNEQUAL_SHARE]] : []);
    const run = await lastLayerRun(ctx, path.join(dir, 'runs', name), ctx.data.source(groups, name, shares), lr);
    const counts = new Map(groups.map((g) => [g, ctx.data.countIn(g, shares)]));
    const cmp = compareRun(analysis, run.series, { k, bootstrap: 0, seed, rule: protocol.decision, counts });
    writeJsonAtomic(path.join(dir, `${name}.compare.json`), cmp);
    const inOrder = groups.map((g) => cmp.groups.find((c) => c.group === g)!);
    const predicted = cmp.priority[0]!.pairs[0];
    if (!predicted) throw new Error(`${groups.join(' + ')}: the priority gap is exactly 0; no order is predicted`);
    const velocity: [number, number] = [inOrder[0]!.margin_velocity, inOrder[1]!.margin_velocity];
    const velocityFirst = velocity[0] >= velocity[1] ? groups[0] : groups[1];
    const outcomes = cmp.priority.map((p): PairOutcome => {
      const c = p.pairs[0]!;
      const observedFirst = c.came_true === null ? null : c.came_true ? c.first : c.second;
      return {
        measure: p.measure,
        came_true: c.came_true,
        observed_first: observedFirst,
        velocity_came_true: observedFirst === null ? null : observedFirst === velocityFirst,
      };
    });
    pairs.push({
      kind,
      groups,
      delta: [deltaOf(groups[0]), deltaOf(groups[1])],
      pairs_per_group: [ctx.data.countIn(groups[0], shares), ctx.data.countIn(groups[1], shares)],
      run: path.relative(ctx.out, run.dir),
      predicted_first: predicted.first,
      priority_gap: predicted.gap,
      margin_velocity: velocity,
      velocity_first: velocityFirst,
      outcomes,
    });
    const headline = outcomes.find((o) => o.measure === protocol.verdict.measures[0])!;
    ctx.log(
      `[b] ${i + 1}/${chosen.length} ${kind} ${groups[0]} + ${groups[1]}: predicted first ${predicted.first} (gap), ${velocityFirst} (velocity); observed first ${headline.observed_first ?? 'tie'} (${seconds(t)})`,
    );
  }
  const pairTests = protocol.measures.flatMap((measure) =>
    (['priority_gap', 'margin_velocity'] as const).map((prediction): PairTest => {
      const results = pairs.map((p) => {
        const o = p.outcomes.find((x) => x.measure === measure)!;
        return prediction === 'priority_gap' ? o.came_true : o.velocity_came_true;
      });
      const hits = results.filter((r) => r === true).length;
      const decided = results.filter((r) => r !== null).length;
      return { prediction, measure, hits, decided, ...pairwiseVerdict(hits, decided, protocol.decision) };
    }),
  );

  const t = Date.now();
  const mixRun = await lastLayerRun(
    ctx,
    path.join(dir, 'runs', 'mix'),
    ctx.data.source(protocol.behaviours, 'mix'),
    lr,
  );
  const mix = compareRun(analysis, mixRun.series, { k, bootstrap: profile.bootstrap, seed, rule: protocol.decision });
  writeJsonAtomic(path.join(dir, 'mix.compare.json'), mix);
  const tests = mix.correlations
    .filter(
      (c) => (c.predictor === 'margin_velocity' || c.predictor === 'delta') && protocol.measures.includes(c.measure),
    )
    .map((c) => protocolTest(c, 'last-layer', [seed], [c.spearman]));
  const verdictTests = tests.filter(
    (x) => x.predictor === 'margin_velocity' && protocol.verdict.measures.includes(x.measure),
  );
  const gap = mix.priority.find((p) => p.measure === protocol.verdict.measures[0])!;
  ctx.log(
    `[b] all ${protocol.behaviours.length} behaviours together: ${verdictTests.map((x) => `${x.measure} Spearman ${x.value.toFixed(2)}, p ${x.p_value.toPrecision(2)}`).join('; ')} (${seconds(t)})`,
  );
  return {
    k,
    pairs,
    pair_tests: pairTests,
    mix: {
      run: path.relative(ctx.out, mixRun.dir),
      n_behaviours: protocol.behaviours.length,
      tests,
      verdict_tests: verdictTests,
      priority: {
        measure: gap.measure,
        hits: gap.hits,
        decided: gap.decided,
        p_value: gap.p_value,
        decision: gap.decision,
      },
    },
    status: combinedStatus(verdictTests.map((x) => x.decision)),
  };
}
