// The decision rule of every prediction test prefdyn reports, fixed in code before any run (theory.md
// s.7: decide measures and thresholds first). A verdict is one of
//   supported      the one-sided p-value in the predicted direction is below ALPHA;
//   not supported  the one-sided test in the other direction has p < ALPHA (the opposite of the
//                  prediction came true), or, for rank correlations, p >= ALPHA and the 95% interval of
//                  the correlation lies below MINIMUM_RHO (an association as strong as the smallest one
//                  worth reporting is ruled out);
//   undecided      otherwise: too few behaviours, a degenerate interval, or an interval wide enough to
//                  hold both "no association" and MINIMUM_RHO.
import { signTest, type TestResult } from './rank-tests.js';

export type Verdict = 'supported' | 'not supported' | 'undecided';

export interface DecisionRule {
  alpha: number;
  minimum_rho: number;
  permutations: number;
}

export const DECISION_RULE: Readonly<DecisionRule> = {
  alpha: 0.05,
  /** Smallest Spearman correlation worth calling an effect. */
  minimum_rho: 0.3,
  /** Random pairings of the permutation test beyond the exactly enumerated sizes. */
  permutations: 10_000,
};

export function decisionRuleText(rule: DecisionRule = DECISION_RULE): string {
  return (
    `one-sided tests in the predicted direction, decided before any run: supported when p < ${rule.alpha}; ` +
    `not supported when the one-sided test in the other direction has p < ${rule.alpha}, or, for rank ` +
    `correlations, when p >= ${rule.alpha} and the 95% interval of Spearman's rho lies below ${rule.minimum_rho}; ` +
    `undecided otherwise`
  );
}

/** An interval of zero width (e.g. [1, 1] from resampling a perfect order) says nothing about uncertainty. */
export function isDegenerate(ci: readonly [number, number] | null): boolean {
  return ci !== null && ci[0] === ci[1];
}

/** A rank correlation: the permutation tests in the predicted (forward) and the other direction, and its interval. */
export function correlationVerdict(
  forward: TestResult,
  backward: TestResult,
  ci: readonly [number, number] | null,
  rule: DecisionRule = DECISION_RULE,
): Verdict {
  if (Number.isNaN(forward.p_value)) return 'undecided';
  const twoWay = twoWayVerdict(forward, backward, rule);
  if (twoWay !== 'undecided') return twoWay;
  if (ci && !isDegenerate(ci) && ci[1] < rule.minimum_rho) return 'not supported';
  return 'undecided';
}

/** A one-sided test both ways: supported when the predicted direction has p < alpha, not supported when the other does. */
export function twoWayVerdict(forward: TestResult, backward: TestResult, rule: DecisionRule = DECISION_RULE): Verdict {
  if (forward.p_value < rule.alpha) return 'supported';
  if (backward.p_value < rule.alpha) return 'not supported';
  return 'undecided';
}

/**
 * Whether a report shows the other direction's p-value beside a test's: when the verdict is "not supported" and
 * the other direction's p is the smaller one (the data lean to the opposite of the prediction).
 */
export function showsOtherDirection(decision: Verdict, p: number, pOther: number): boolean {
  return decision === 'not supported' && pOther < p;
}

/** Pairwise predictions: sign tests both ways, came true more often than chance, or less often. */
export function pairwiseVerdict(
  hits: number,
  decided: number,
  rule: DecisionRule = DECISION_RULE,
): { decision: Verdict; p_value: number } {
  const forward = signTest(hits, decided);
  return { decision: twoWayVerdict(forward, signTest(decided - hits, decided), rule), p_value: forward.p_value };
}
