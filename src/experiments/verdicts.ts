// The status of each of the paper's findings, from the numbers of its experiment, by the decision rule
// fixed before any run (analysis/decision-rule.ts).
import type { Correlation } from '../analysis/compare-run.js';
import type { Verdict } from '../analysis/decision-rule.js';

export type FindingStatus = Verdict;

/**
 * The observed speed the verdicts rest on: the mean train loss over the run (area under the loss curve),
 * which uses every step; "steps to 90% accuracy" is often never reached by a tiny model, and the
 * loss or slope at step k reads one noisy point. The other measures are reported next to it.
 */
export const HEADLINE_MEASURE = 'loss_area';

export function correlationStatus(c: Correlation): FindingStatus {
  return c.decision;
}
