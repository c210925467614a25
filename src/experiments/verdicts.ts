// Plain-language status of each of the paper's findings, from the numbers of its experiment.
import type { Correlation } from '../analysis/compare-run.js';

export type FindingStatus = 'holds' | 'partly' | 'not reproduced' | 'no verdict';

/**
 * The observed speed the verdicts rest on: the mean train loss over the run (area under the loss curve),
 * which uses every step; "steps to 90% accuracy" is often never reached by a tiny model, and the
 * loss or slope at step k reads one noisy point. The other measures are reported next to it.
 */
export const HEADLINE_MEASURE = 'loss_area';

/** holds: positive rank correlation whose bootstrap interval is above 0; partly: positive but the interval reaches 0. */
export function correlationStatus(c: Correlation): FindingStatus {
  if (!Number.isFinite(c.spearman)) return 'no verdict';
  if (c.spearman <= 0) return 'not reproduced';
  return c.spearman_ci && c.spearman_ci[0] > 0 ? 'holds' : 'partly';
}

/** holds: every decided prediction came true; partly: more than half. */
export function hitStatus(hits: number, decided: number): FindingStatus {
  if (decided === 0) return 'no verdict';
  if (hits === decided) return 'holds';
  return hits * 2 > decided ? 'partly' : 'not reproduced';
}
