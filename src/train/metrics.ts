// Per-pair losses and the per-group metric lines of a run (architecture.md contract 4), with TRL's
// names: rewards/chosen = beta (pc - rc), rewards/rejected = beta (pr - rr), rewards/margins = their
// difference, rewards/accuracies = share with margin > 0 (reward accuracy), policy/accuracies = share
// with pc > pr (policy accuracy, what the paper plots; theory.md s.1), logps/* = policy log-probs,
// logits/* = the policy's raw logits averaged over the vocabulary and over every response token of
// the group's chosen (rejected) answers, pooled by tokens as TRL's DPOTrainer does
// (logits[:n][loss_mask[:n]].mean()).
import { objectiveLoss, marginLogit, type ObjectiveName, type ObjectiveParams } from './objectives.js';
import type { ResponseLogps } from './policy.js';

/** Policy and reference response log-probs of a set of pairs, in the same order. */
export interface PairLogps {
  policyChosen: ArrayLike<number>;
  policyRejected: ArrayLike<number>;
  refChosen: ArrayLike<number>;
  refRejected: ArrayLike<number>;
}

export interface PairLosses {
  loss: Float64Array;
  /** dl/dh per pair. */
  slope: Float64Array;
}

export function pairLosses(objective: ObjectiveName, p: ObjectiveParams, lp: PairLogps): PairLosses {
  const n = lp.policyChosen.length;
  const loss = new Float64Array(n);
  const slope = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = marginLogit(p.beta, lp.policyChosen[i]!, lp.policyRejected[i]!, lp.refChosen[i]!, lp.refRejected[i]!);
    const r = objectiveLoss(objective, h, p);
    loss[i] = r.loss;
    slope[i] = r.slope;
  }
  return { loss, slope };
}

export const METRIC_KEYS = [
  'loss',
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'rewards/accuracies',
  'policy/accuracies',
  'logps/chosen',
  'logps/rejected',
  'logits/chosen',
  'logits/rejected',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
/** The first PAIR_KEYS metrics are means over pairs; logits/* are pooled over tokens. */
const PAIR_KEYS = METRIC_KEYS.indexOf('logits/chosen');

export interface GroupMetrics {
  group: string;
  n: number;
  values: Record<MetricKey, number>;
}

/**
 * Means per group (in order of first appearance) and over all pairs ("all", last). Each mean is
 * shifted by the group's first value, x0 + sum(x - x0)/n, so equal values (step 0: every loss ln 2)
 * average to exactly that value.
 */
/** Per pair, the policy's vocabulary-mean logit sums and response lengths (ResponseLogps). */
export type PairLogits = Pick<ResponseLogps, 'logitSums' | 'tokens'>;

export function groupMetrics(
  groups: readonly string[],
  beta: number,
  lp: PairLogps,
  losses: Float64Array,
  logits: PairLogits,
): GroupMetrics[] {
  /** s: shifted sums of the per-pair metrics; l: logit sums and token counts (chosen, rejected) for logits/*. */
  type Acc = { n: number; x0: number[]; s: Float64Array; l: Float64Array };
  const sums = new Map<string, Acc>();
  const newAcc = (row: number[]): Acc => ({ n: 0, x0: row, s: new Float64Array(PAIR_KEYS), l: new Float64Array(4) });
  const { logitSums: ls, tokens: tk } = logits;
  let all: Acc | undefined;
  for (let i = 0; i < groups.length; i++) {
    const rc = beta * (lp.policyChosen[i]! - lp.refChosen[i]!);
    const rr = beta * (lp.policyRejected[i]! - lp.refRejected[i]!);
    const row = [
      losses[i]!,
      rc,
      rr,
      rc - rr,
      rc - rr > 0 ? 1 : 0,
      lp.policyChosen[i]! > lp.policyRejected[i]! ? 1 : 0,
      lp.policyChosen[i]!,
      lp.policyRejected[i]!,
    ];
    let g = sums.get(groups[i]!);
    if (!g) sums.set(groups[i]!, (g = newAcc(row)));
    all ??= newAcc(row);
    for (const acc of [g, all]) {
      acc.n += 1;
      for (let k = 0; k < row.length; k++) acc.s[k]! += row[k]! - acc.x0[k]!;
      acc.l[0]! += ls.chosen[i]!;
      acc.l[1]! += tk.chosen[i]!;
      acc.l[2]! += ls.rejected[i]!;
      acc.l[3]! += tk.rejected[i]!;
    }
  }
  const out: GroupMetrics[] = [];
  const finish = (group: string, acc: Acc) => {
    const values = {} as Record<MetricKey, number>;
    METRIC_KEYS.slice(0, PAIR_KEYS).forEach((k, j) => (values[k] = acc.x0[j]! + acc.s[j]! / acc.n));
    values['logits/chosen'] = acc.l[0]! / acc.l[1]!;
    values['logits/rejected'] = acc.l[2]! / acc.l[3]!;
    out.push({ group, n: acc.n, values });
  };
  for (const [group, acc] of sums) finish(group, acc);
  if (all) finish('all', all);
  return out;
}

/** The first group (in order) with a non-finite metric, or undefined. */
export function firstNonFiniteGroup(metrics: GroupMetrics[]): string | undefined {
  return metrics.find((m) => m.group !== 'all' && METRIC_KEYS.some((k) => !Number.isFinite(m.values[k])))?.group;
}
