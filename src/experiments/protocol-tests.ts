// The pre-registered tests of a reproduction's findings, as summary.json records them, and how a
// finding's status follows from the tests its protocol names.
import type { Correlation } from '../analysis/compare-run.js';
import type { Verdict } from '../analysis/decision-rule.js';
import type { ProtocolMode } from './protocol.js';
import type { FindingStatus } from './verdicts.js';

/** One pre-registered test: a predictor against a speed measure in one mode, over the seeds. */
export interface ProtocolTest {
  mode: ProtocolMode;
  n_behaviours: number;
  seeds: number[];
  measure: string;
  predictor: string;
  statistic: 'spearman';
  /** Spearman of the predictor against the behaviours' mean speed rank over seeds. */
  value: number;
  p_value: number;
  p_method: string;
  /** The one-sided p-value of the other direction (rho < 0). */
  p_value_other_direction: number;
  /** Bootstrap 95% interval over behaviours (percentile). */
  interval: [number, number] | null;
  interval_degenerate: boolean;
  /** Spearman per seed, in `seeds` order: the seed spread. */
  per_seed: number[];
  decision: Verdict;
  /** Set on last-layer train-loss tests: close to an identity in Delta (theory.md s.7). */
  note?: string;
}

/** The test record of a rank correlation over `n` behaviours (per_seed: Spearman per seed, in `seeds` order). */
export function protocolTest(c: Correlation, mode: ProtocolMode, seeds: number[], perSeed: number[]): ProtocolTest {
  return {
    mode,
    n_behaviours: c.n,
    seeds,
    measure: c.measure,
    predictor: c.predictor,
    statistic: 'spearman',
    value: c.spearman,
    p_value: c.p_value,
    p_method: c.p_method,
    p_value_other_direction: c.p_value_other_direction,
    interval: c.spearman_ci,
    interval_degenerate: c.interval_degenerate,
    per_seed: perSeed,
    decision: c.decision,
  };
}

/** Supported when every verdict test is; not supported when any is not; undecided otherwise. */
export function combinedStatus(decisions: readonly Verdict[]): FindingStatus {
  if (decisions.length === 0) return 'undecided';
  if (decisions.every((d) => d === 'supported')) return 'supported';
  if (decisions.some((d) => d === 'not supported')) return 'not supported';
  return 'undecided';
}

/** Every test of a reproduction in one shape (summary.json's `tests`), whatever its statistic. */
export interface SummaryTest {
  finding: 1 | 2 | 3;
  experiment: string;
  mode: string;
  /** Behaviours ranked (rank tests), pairs decided (sign tests) or 1 (the flip test's one behaviour). */
  n_behaviours: number;
  seeds: number[];
  measure: string;
  predictor: string;
  statistic: 'spearman' | 'sign test' | 'paired t';
  value: number;
  p_value: number;
  interval: [number, number] | null;
  decision: Verdict;
}
