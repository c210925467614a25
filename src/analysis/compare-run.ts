// `prefdyn compare`: the analysis's predictions against what a run observed (theory.md s.4 "Check").
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { interval95 } from './bootstrap.js';
import { MEASURES, observedSpeeds, type ObservedGroup } from './observed-speed.js';
import { marginVelocity, mixWeights, priorityGapMatrix } from './priority.js';
import {
  correlationVerdict,
  DECISION_RULE,
  isDegenerate,
  showsOtherDirection,
  pairwiseVerdict,
  decisionRuleText,
  type DecisionRule,
  type Verdict,
} from './decision-rule.js';
import { kendallTauB, spearman } from './rank-correlation.js';
import { spearmanPermutationTest } from './rank-tests.js';
import type { RunSeries } from './run-metrics.js';
import type { DataFingerprint, GroupFingerprint } from '../train/run-fingerprints.js';

/** The parts of the analysis JSON (contract 5) that compare needs. */
export interface AnalysisInput {
  groups: {
    group: string;
    n_pos: number;
    n_neg: number;
    delta: number;
    /** The normalised predictors (theory.md s.3); absent or non-finite: not correlated. */
    delta_over_sqrt_concentration?: number | null;
    fisher?: number | null;
  }[];
  gram: { groups: string[]; dd: number[][]; cc: number[][] };
  /** Pairs per group and their fingerprint (train/run-fingerprints.ts); absent in files of older versions. */
  data_fingerprint?: { groups: Record<string, GroupFingerprint> };
}

export interface CompareOptions {
  /** Step at which "loss after k" and the initial slope are read. */
  k: number;
  bootstrap: number;
  seed: number;
  /** The decision rule's thresholds; DECISION_RULE unless a protocol fixes others. */
  rule?: DecisionRule;
  /** Pairs per group in the run when it trained on fewer than the analysis counted (a subset); the mix shares use them. */
  counts?: ReadonlyMap<string, number>;
}

/** The predictors correlated with observed speed; the verdicts use margin_velocity. */
export const PREDICTORS = ['margin_velocity', 'delta', 'delta_over_sqrt_concentration', 'fisher'] as const;

export interface Correlation {
  predictor: (typeof PREDICTORS)[number];
  measure: string;
  n: number;
  spearman: number;
  spearman_ci: [number, number] | null;
  kendall_tau_b: number;
  kendall_ci: [number, number] | null;
  /** One-sided (rho > 0) permutation p-value of Spearman's rho (analysis/rank-tests.ts). */
  p_value: number;
  p_method: string;
  /** One-sided (rho < 0) p-value of the other direction; below alpha it makes the verdict "not supported". */
  p_value_other_direction: number;
  /** True when the bootstrap interval has zero width (e.g. [1, 1] from a perfect order): it shows no uncertainty. */
  interval_degenerate: boolean;
  /** By the decision rule fixed before any run (analysis/decision-rule.ts). */
  decision: Verdict;
  verdict: string;
}

export interface PriorityCheck {
  measure: string;
  /** Pairs with a predicted order (gap != 0) and an observed one (no tie). */
  decided: number;
  hits: number;
  /** One-sided sign test of the hits (approximate: pairs that share a group are not independent). */
  p_value: number;
  decision: Verdict;
  pairs: { first: string; second: string; gap: number; came_true: boolean | null }[];
}

export interface ComparisonReport {
  run_groups: string[];
  k: number;
  groups: {
    group: string;
    margin_velocity: number;
    delta: number;
    delta_over_sqrt_concentration: number | null;
    fisher: number | null;
    predicted_rank: number;
    observed: Record<string, number | null>;
  }[];
  correlations: Correlation[];
  priority: PriorityCheck[];
  findings: string[];
  notes: string[];
}

/** Validates the analysis JSON's shape, naming the first bad field. */
export function checkAnalysisInput(file: string, value: unknown): AnalysisInput {
  const a = value as Partial<AnalysisInput> | null;
  if (!a || typeof a !== 'object' || !Array.isArray(a.groups))
    throw new UserError(
      `${file}: not an analysis file: "groups" must be an array (write one with \`prefdyn analyze --json\`)`,
    );
  a.groups.forEach((g, i) => {
    for (const key of ['n_pos', 'n_neg', 'delta'] as const) {
      if (typeof g?.[key] !== 'number') throw new UserError(`${file}: groups[${i}].${key} must be a number`);
    }
    if (typeof g.group !== 'string') throw new UserError(`${file}: groups[${i}].group must be a string`);
  });
  const gram = a.gram;
  const b = gram?.groups?.length ?? -1;
  if (!gram || !Array.isArray(gram.groups) || !isSquare(gram.dd, b) || !isSquare(gram.cc, b)) {
    throw new UserError(`${file}: "gram" must hold "groups" and square "dd" and "cc" matrices of the same size`);
  }
  const groups = a.data_fingerprint?.groups;
  if (a.data_fingerprint !== undefined && (groups === null || typeof groups !== 'object'))
    throw new UserError(`${file}: "data_fingerprint" must hold a "groups" object`);
  for (const [g, f] of Object.entries(groups ?? {})) {
    if (typeof f?.n !== 'number' || (f.sha256 !== null && typeof f.sha256 !== 'string'))
      throw new UserError(
        `${file}: data_fingerprint.groups["${g}"] must hold a number "n" and a "sha256" string or null`,
      );
  }
  return a as AnalysisInput;
}

/**
 * Refuses a run whose data differs from the analysis's in a group both have: another pair count, or
 * other pairs (when both record their fingerprint). Returns a note when the check cannot be made.
 * `where` names the two files for the message.
 */
export function checkSameData(
  analysis: AnalysisInput,
  run: DataFingerprint | undefined,
  where: { analysis: string; run: string },
): string | undefined {
  const analysed = analysis.data_fingerprint?.groups;
  if (!run || !analysed)
    return `${run ? where.analysis : where.run} records no data fingerprint (written by an older prefdyn or by hand): the run's data is not checked against the analysis's`;
  for (const [group, r] of Object.entries(run.groups)) {
    const a = analysed[group];
    if (!a) continue;
    if (a.n !== r.n)
      throw new UserError(
        `group "${group}" has ${r.n} pairs in the run (${where.run}) but ${a.n} in the analysis (${where.analysis}): they describe different data`,
      );
    if (a.sha256 !== null && r.sha256 !== null && a.sha256 !== r.sha256)
      throw new UserError(
        `group "${group}": the run's ${r.n} pairs (${where.run}) differ from the analysis's (${where.analysis}): they describe different data`,
      );
  }
  return undefined;
}

function isSquare(m: unknown, b: number): boolean {
  return (
    Array.isArray(m) &&
    m.length === b &&
    m.every((row) => Array.isArray(row) && row.length === b && row.every((v) => typeof v === 'number'))
  );
}

export function compareRun(analysis: AnalysisInput, series: RunSeries, options: CompareOptions): ComparisonReport {
  const inRun = [...series.get('train')!.keys()].filter((g) => g !== 'all');
  const known = new Set(analysis.gram.groups);
  const notes: string[] = [];
  const missing = inRun.filter((g) => !known.has(g));
  if (missing.length)
    notes.push(
      `${missing.length} group(s) of the run are not in the analysis and are left out: ${missing.slice(0, 5).join(', ')}`,
    );
  const groups = inRun.filter((g) => known.has(g));
  if (groups.length < 2)
    throw new UserError(
      `the run and the analysis share ${groups.length} group(s); a comparison needs at least 2 (run groups: ${inRun.slice(0, 5).join(', ') || 'none'})`,
    );

  // Predictions redone for the run's own mix: w_b = the group's share of pairs among the run's groups.
  const idx = groups.map((g) => analysis.gram.groups.indexOf(g));
  const sub = (m: number[][]) => idx.map((i) => idx.map((j) => m[i]![j]!));
  const byName = new Map(analysis.groups.map((g) => [g.group, g]));
  const counts = groups.map((g) => options.counts?.get(g) ?? byName.get(g)!.n_pos + byName.get(g)!.n_neg);
  const velocity = marginVelocity(
    sub(analysis.gram.cc),
    mixWeights(
      counts,
      groups.map(() => true),
    ),
  );
  const delta = groups.map((g) => byName.get(g)!.delta);
  const gap = priorityGapMatrix(sub(analysis.gram.dd));
  const observed = observedSpeeds(series, groups, options.k);

  const optional = (key: 'delta_over_sqrt_concentration' | 'fisher') =>
    groups.map((g) => {
      const x = byName.get(g)![key];
      return typeof x === 'number' && Number.isFinite(x) ? x : null;
    });
  const normalised = {
    delta_over_sqrt_concentration: optional('delta_over_sqrt_concentration'),
    fisher: optional('fisher'),
  };
  const correlations: Correlation[] = [];
  for (const [predictor, scores] of [
    ['margin_velocity', velocity],
    ['delta', delta],
    ['delta_over_sqrt_concentration', normalised.delta_over_sqrt_concentration],
    ['fisher', normalised.fisher],
  ] as const) {
    if (scores.some((x) => x === null)) continue; // an analysis of an older version, or a degenerate group
    for (const m of MEASURES) correlations.push(correlate(predictor, scores as number[], m.name, observed, options));
  }
  const priority = MEASURES.map((m) => priorityCheck(groups, gap, observed, m.name, options.rule ?? DECISION_RULE));
  const rank = ranksOf(velocity);
  const findings = [
    ...correlations.filter((c) => c.predictor === 'margin_velocity').map((c) => c.verdict),
    ...priority.map((p) => priorityVerdict(p)),
  ];
  return {
    run_groups: groups,
    k: options.k,
    groups: groups.map((g, i) => ({
      group: g,
      margin_velocity: velocity[i]!,
      delta: delta[i]!,
      delta_over_sqrt_concentration: normalised.delta_over_sqrt_concentration[i]!,
      fisher: normalised.fisher[i]!,
      predicted_rank: rank[i]!,
      observed: observed[i]!.raw,
    })),
    correlations,
    priority,
    findings,
    notes: [...notes, `Verdicts: ${decisionRuleText(options.rule)}.`],
  };
}

/** 1 = largest score. */
function ranksOf(scores: readonly number[]): number[] {
  return scores.map((s) => 1 + scores.filter((t) => t > s).length);
}

function correlate(
  predictor: Correlation['predictor'],
  scores: readonly number[],
  measure: string,
  observed: readonly ObservedGroup[],
  options: CompareOptions,
): Correlation {
  return rankCorrelation(
    predictor,
    measure,
    scores,
    observed.map((o) => o.speed[measure]!),
    options,
  );
}

/**
 * Spearman and Kendall of predicted scores against observed speeds (larger = faster), with bootstrap
 * intervals over groups, the one-sided permutation p-value and the verdict of the decision rule.
 */
export function rankCorrelation(
  predictor: Correlation['predictor'],
  measure: string,
  scores: readonly number[],
  speed: readonly number[],
  options: CompareOptions,
): Correlation {
  const rule = options.rule ?? DECISION_RULE;
  const n = scores.length;
  const rho = spearman(scores, speed);
  const tau = kendallTauB(scores, speed);
  let rhoCi: [number, number] | null = null;
  let tauCi: [number, number] | null = null;
  if (options.bootstrap > 0 && n >= 3) {
    // Resample groups with replacement; replicates where a side has no spread (NaN) are dropped.
    const rng = Rng.derive(options.seed, `${predictor}/${measure}`);
    const rhos: number[] = [];
    const taus: number[] = [];
    for (let r = 0; r < options.bootstrap; r++) {
      const pick = Array.from({ length: n }, () => rng.int(n));
      const x = pick.map((i) => scores[i]!);
      const y = pick.map((i) => speed[i]!);
      const a = spearman(x, y);
      const b = kendallTauB(x, y);
      if (!Number.isNaN(a)) rhos.push(a);
      if (!Number.isNaN(b)) taus.push(b);
    }
    if (rhos.length) rhoCi = interval95(rhos);
    if (taus.length) tauCi = interval95(taus);
  }
  const test = spearmanPermutationTest(
    scores,
    speed,
    rule.permutations,
    Rng.derive(options.seed, `permutation/${predictor}/${measure}`),
  );
  // The other direction (a larger predictor going with slower learning), for the verdict.
  const reverse = spearmanPermutationTest(
    scores.map((x) => -x),
    speed,
    rule.permutations,
    Rng.derive(options.seed, `permutation-reverse/${predictor}/${measure}`),
  );
  const decision = correlationVerdict(test, reverse, rhoCi, rule);
  return {
    predictor,
    measure,
    n,
    spearman: rho,
    spearman_ci: rhoCi,
    kendall_tau_b: tau,
    kendall_ci: tauCi,
    p_value: test.p_value,
    p_method: test.method,
    p_value_other_direction: reverse.p_value,
    interval_degenerate: isDegenerate(rhoCi),
    decision,
    verdict: correlationSentence(predictor, measure, n, rho, rhoCi, test.p_value, reverse.p_value, decision),
  };
}

function correlationSentence(
  predictor: string,
  measure: string,
  n: number,
  rho: number,
  ci: [number, number] | null,
  p: number,
  pOther: number,
  decision: Verdict,
): string {
  const what = `${predictor} vs ${measure} (${n} groups): Spearman ${fmt(rho)}${ci ? ` [${fmt(ci[0])}, ${fmt(ci[1])}]` : ''}`;
  if (Number.isNaN(rho))
    return `${what}: undecided, the observed speeds do not vary (e.g. no group reached the target)`;
  const interval = !ci
    ? '; no interval (too few groups or no bootstrap)'
    : isDegenerate(ci)
      ? '; the interval is degenerate (zero width: resampling cannot show the uncertainty of so few groups)'
      : '';
  const other = showsOtherDirection(decision, p, pOther) ? ` (the other direction: p = ${fmtP(pOther)})` : '';
  return `${what}, one-sided p = ${fmtP(p)}: ${decision}${other}${interval}`;
}

function priorityCheck(
  groups: readonly string[],
  gap: number[][],
  observed: readonly ObservedGroup[],
  measure: string,
  rule: DecisionRule,
): PriorityCheck {
  const pairs: PriorityCheck['pairs'] = [];
  let decided = 0;
  let hits = 0;
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const g = gap[i]![j]!;
      if (g === 0) continue;
      const [first, second] = g > 0 ? [i, j] : [j, i];
      const a = observed[first]!.speed[measure]!;
      const b = observed[second]!.speed[measure]!;
      const cameTrue = a === b ? null : a > b;
      if (cameTrue !== null) {
        decided++;
        if (cameTrue) hits++;
      }
      pairs.push({ first: groups[first]!, second: groups[second]!, gap: Math.abs(g), came_true: cameTrue });
    }
  }
  const { decision, p_value } = pairwiseVerdict(hits, decided, rule);
  return { measure, decided, hits, p_value, decision, pairs };
}

function priorityVerdict(p: PriorityCheck): string {
  if (p.decided === 0) return `priority by ${p.measure}: no pair was decided (observed ties)`;
  return `priority by ${p.measure}: ${p.hits} of ${p.decided} pairwise predictions came true (${((100 * p.hits) / p.decided).toFixed(0)}%), one-sided sign test p = ${fmtP(p.p_value)}: ${p.decision}`;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : String(x);
}

/** Two significant digits; small p-values in exponent form. */
function fmtP(p: number): string {
  return p < 1e-3 ? p.toExponential(1) : p.toPrecision(2);
}
