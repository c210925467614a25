// `prefdyn analyze`: distinguishability per group and the cross-group predictions (theory.md s.3-4),
// streaming the embeddings group by group. Pass 1: per-group moments (and bootstrap replicates);
// pass 2: each row's one-step margin direction z_i = s_i g_i . v, once the mix's v is known.
import { createHash } from 'node:crypto';
import { UserError } from '../util/errors.js';
import { kernels } from '../tensor/kernels/index.js';
import { Rng } from '../util/rng.js';
import { bootstrapGroup, interval95 } from './bootstrap.js';
import type { EmbeddingSource } from './embeddings-file.js';
import { groupStats, type GroupStats } from './group-stats.js';
import { GRAM_MAX_SIDE } from './side-moments.js';
import { ACCURACY_BOUND, oneStepAccuracy } from './one-step.js';
import {
  marginVelocity,
  mixWeights,
  orderByDecreasing,
  priorityGapMatrix,
  sharedUpdateAlignment,
  type Gram,
} from './priority.js';
import { TAIL_METHOD } from './tail-fit.js';
import {
  duplicateKey,
  duplicateWarning,
  deprioritisedWarnings,
  smallGroupWarnings,
  type AnalysisWarning,
} from './warnings.js';

export interface AnalyzeOptions {
  /** Groups trained together (default: every group). */
  mix?: readonly string[];
  /** Bootstrap replicates; 0 disables the intervals. */
  bootstrap: number;
  seed: number;
}

/** One group's row of the analysis JSON (contract 5); snake_case as in the JSON. */
export interface GroupAnalysis {
  group: string;
  n_pos: number;
  n_neg: number;
  delta: number;
  delta_ci: [number, number] | null;
  concentration: number;
  trace: number;
  delta_over_sqrt_concentration: number;
  fisher: number;
  tail_alpha: number | null;
  tail_K: number | null;
  in_mix: boolean;
  mix_weight: number;
  shared_update: number;
  margin_velocity: number;
  predicted_rank: number;
  rank_ci: [number, number] | null;
  one_step_accuracy: number;
  one_step_accuracy_bound: number;
}

export interface AnalysisReport {
  version: 1;
  source: { rows: number; d: number; embeddings?: string };
  settings: { mix: string[]; bootstrap: number; seed: number };
  methods: Record<string, string>;
  /** Sorted by predicted rank (fastest first). */
  groups: GroupAnalysis[];
  priority: { groups: string[]; gap: number[][] };
  /** Gram matrices of d_b = mu+ - mu- and c_b = mean s g, so predictions can be redone for another mix. */
  gram: { groups: string[]; dd: number[][]; cc: number[][] };
  order: { groups: string[]; too_close: { a: string; b: string; agreement: number }[] };
  skipped: { group: string; n_pos: number; n_neg: number }[];
  warnings: AnalysisWarning[];
}

export const METHODS = {
  delta: 'Delta = ||mu+ - mu-||_2 of the final-layer prompt embeddings (theory.md s.3)',
  concentration: `max over sides of the largest eigenvalue of the sample covariance (1/(n-1)), by Lanczos with full reorthogonalisation on the smaller Gram of the centred rows Xc: [n, d], formed by one sgemm when m = min(n, d) <= ${GRAM_MAX_SIDE} (Xc Xc^T [n, n] if n <= d, else Xc^T Xc [d, d]; same nonzero spectrum), else applied implicitly as Xc^T (Xc v)`,
  trace: 'max over sides of the trace of the sample covariance',
  fisher: '1-D Fisher criterion along u = d_b/||d_b||: (u.(mu+ - mu-))^2 / (u^T Cov+ u + u^T Cov- u)',
  tail: TAIL_METHOD + '; z = <u, g - mu_side>, both sides pooled',
  shared_update: '<dbar, d_b>, dbar = sum_b w_b d_b, w_b = share of pairs in the mix (theory.md s.4)',
  margin_velocity:
    'mean over the group of s_i g_i . v, v = mean over the mix of s_j g_j; margin after one full-batch SGD step of last-layer DPO = lr * beta^2 * this (exact; see src/analysis/one-step.ts)',
  predicted_order:
    'decreasing margin_velocity; rank intervals: 2.5% and 97.5% percentiles over bootstrap replicates (resampling rows within each side of each group)',
  priority_gap:
    'official code: dbar = (d_i + d_j)/2, p_i = <dbar, d_i>/||dbar||, gap(i,j) = (p_i - p_j)/max(||d_i||, ||d_j||); gap > 0: i first',
  one_step_accuracy:
    'fraction of the group with s_i g_i . v > 0 (reward accuracy after one full-batch last-layer SGD step from W0)',
  one_step_accuracy_bound: ACCURACY_BOUND,
};

/** Pairs whose bootstrap order agrees with the point order less often than this are "too close to call". */
export const TOO_CLOSE_AGREEMENT = 0.95;

export function analyzeEmbeddings(source: EmbeddingSource, options: AnalyzeOptions): AnalysisReport {
  const { d } = source;
  const stats: GroupStats[] = [];
  const deltaCi = new Map<string, [number, number]>();
  const replicates: Float32Array[] = [];
  const skipped: AnalysisReport['skipped'] = [];
  const hasPrompts = source.rows.some((r) => r.prompt !== undefined);
  const groupsOfKey = new Map<string, Set<string>>();
  const addKey = (key: string, group: string) => {
    const set = groupsOfKey.get(key);
    if (set) set.add(group);
    else groupsOfKey.set(key, new Set([group]));
  };
  if (hasPrompts) for (const r of source.rows) if (r.prompt !== undefined) addKey(duplicateKey(r.prompt), r.group);

  if (options.mix) {
    // Checked before any reading, so a typo costs nothing.
    const unknown = options.mix.filter((g) => !source.groups.includes(g));
    if (unknown.length) {
      throw new UserError(
        `--mix names ${unknown.length} group(s) not in the data: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''} (the data has ${source.groups.length} groups, e.g. ${source.groups.slice(0, 3).join(', ')})`,
      );
    }
  }

  // Pass 1: moments, bootstrap replicates, embedding hashes (duplicates when no prompts are given).
  for (const group of source.groups) {
    const rows = source.readGroup(group);
    let nPos = 0;
    for (const l of rows.labels) if (l === 1) nPos++;
    const nNeg = rows.labels.length - nPos;
    if (nPos < 2 || nNeg < 2) {
      skipped.push({ group, n_pos: nPos, n_neg: nNeg });
      continue;
    }
    stats.push(groupStats(rows));
    if (!hasPrompts) {
      for (let i = 0; i < rows.labels.length; i++) {
        const bytes = new Uint8Array(rows.x.buffer, rows.x.byteOffset + i * d * 4, d * 4);
        addKey(createHash('sha1').update(bytes).digest('base64'), group);
      }
    }
    if (options.bootstrap > 0) {
      const rep = bootstrapGroup(rows, options.bootstrap, Rng.derive(options.seed, group));
      deltaCi.set(group, interval95(rep.deltas));
      replicates.push(rep.signedMeans);
    }
  }
  if (stats.length === 0) {
    throw new UserError(
      `no group has at least 2 rows on each side (label +1 and -1); nothing to analyse (${skipped.length} groups skipped)`,
    );
  }
  const names = stats.map((s) => s.group);
  const mix = options.mix ?? names;
  const skippedInMix = mix.filter((g) => !names.includes(g));
  if (skippedInMix.length)
    throw new UserError(`--mix names group(s) skipped for too few rows on a side: ${skippedInMix.join(', ')}`);
  const inMix = names.map((g) => mix.includes(g));
  const weights = mixWeights(
    stats.map((s) => s.nPos + s.nNeg),
    inMix,
  );
  const dd = gramOf(stats.map((s) => s.meanGap));
  const cc = gramOf(stats.map((s) => s.signedMean));
  const shared = sharedUpdateAlignment(dd, weights);
  const velocity = marginVelocity(cc, weights);

  // Pass 2: one-step accuracy per group, from z_i = s_i g_i . v.
  const v = new Float64Array(d);
  stats.forEach((s, b) => {
    for (let k = 0; k < d; k++) v[k]! += weights[b]! * s.signedMean[k]!;
  });
  const accuracy = stats.map((s) => {
    const rows = source.readGroup(s.group);
    const z = new Float64Array(rows.labels.length);
    for (let i = 0; i < z.length; i++) {
      let acc = 0;
      const off = i * d;
      for (let k = 0; k < d; k++) acc += rows.x[off + k]! * v[k]!;
      z[i] = rows.labels[i]! * acc;
    }
    return oneStepAccuracy(z);
  });

  const order = orderByDecreasing(velocity);
  const rankOf = new Array<number>(stats.length);
  order.forEach((b, r) => (rankOf[b] = r + 1));
  const boot = options.bootstrap > 0 ? bootstrapOrder(replicates, stats.length, d, weights, order) : null;

  const groups: GroupAnalysis[] = order.map((b) => {
    const s = stats[b]!;
    return {
      group: s.group,
      n_pos: s.nPos,
      n_neg: s.nNeg,
      delta: s.delta,
      delta_ci: deltaCi.get(s.group) ?? null,
      concentration: s.concentration,
      trace: s.trace,
      delta_over_sqrt_concentration: s.deltaOverSqrtConcentration,
      fisher: s.fisher,
      tail_alpha: s.tail?.alpha ?? null,
      tail_K: s.tail?.K ?? null,
      in_mix: inMix[b]!,
      mix_weight: weights[b]!,
      shared_update: shared[b]!,
      margin_velocity: velocity[b]!,
      predicted_rank: rankOf[b]!,
      rank_ci: boot ? boot.rankCi[b]! : null,
      one_step_accuracy: accuracy[b]!.predicted,
      one_step_accuracy_bound: accuracy[b]!.cantelliLowerBound,
    };
  });
  const warnings: AnalysisWarning[] = [
    ...skipped.map((s) => ({
      kind: 'skipped-group',
      groups: [s.group],
      message: `group "${s.group}" skipped: ${s.n_pos} positive and ${s.n_neg} negative rows; each side needs at least 2 for a covariance`,
    })),
    ...smallGroupWarnings(groups),
    ...deprioritisedWarnings(groups),
  ];
  const dup = duplicateWarning(groupsOfKey, hasPrompts ? 'prompt' : 'embedding');
  if (dup) warnings.push(dup);
  return {
    version: 1,
    source: { rows: source.rows.length, d },
    settings: { mix: [...mix], bootstrap: options.bootstrap, seed: options.seed },
    methods: METHODS,
    groups,
    priority: { groups: names, gap: priorityGapMatrix(dd) },
    gram: { groups: names, dd, cc },
    order: {
      groups: order.map((b) => names[b]!),
      too_close: boot ? boot.tooClose.map(([i, j, agreement]) => ({ a: names[i]!, b: names[j]!, agreement })) : [],
    },
    skipped,
    warnings,
  };
}

/** G[i][j] = a_i . a_j in float64. */
function gramOf(vectors: readonly Float64Array[]): Gram {
  const b = vectors.length;
  const g: Gram = Array.from({ length: b }, () => new Array<number>(b).fill(0));
  for (let i = 0; i < b; i++) {
    for (let j = i; j < b; j++) {
      let s = 0;
      const x = vectors[i]!;
      const y = vectors[j]!;
      for (let k = 0; k < x.length; k++) s += x[k]! * y[k]!;
      g[i]![j] = s;
      g[j]![i] = s;
    }
  }
  return g;
}

/**
 * Rank intervals and pairwise agreement over bootstrap replicates. replicates[b]: [R, d] of c_b*;
 * per replicate the Gram C* C*^T: [B, B] is one sgemm, and velocity* = Gram w.
 */
function bootstrapOrder(
  replicates: readonly Float32Array[],
  B: number,
  d: number,
  weights: readonly number[],
  order: readonly number[],
): { rankCi: [number, number][]; tooClose: [number, number, number][] } {
  const R = replicates[0]!.length / d;
  const ranks: number[][] = Array.from({ length: B }, () => []);
  const ahead = new Float64Array(B * B); // ahead[i*B+j] = replicates where i is strictly faster than j
  const c = new Float32Array(B * d);
  const gram = new Float32Array(B * B);
  for (let r = 0; r < R; r++) {
    for (let b = 0; b < B; b++) c.set(replicates[b]!.subarray(r * d, (r + 1) * d), b * d);
    kernels().sgemm(false, true, B, B, d, 1, c, c, 0, gram);
    const vel = Array.from({ length: B }, (_, i) => {
      let s = 0;
      for (let j = 0; j < B; j++) s += gram[i * B + j]! * weights[j]!;
      return s;
    });
    for (let i = 0; i < B; i++) {
      let faster = 0;
      for (let j = 0; j < B; j++) {
        if (vel[j]! > vel[i]!) faster++;
        else if (vel[i]! > vel[j]!) ahead[i * B + j]!++;
      }
      ranks[i]!.push(faster + 1);
    }
  }
  const tooClose: [number, number, number][] = [];
  for (let x = 0; x < B; x++) {
    for (let y = x + 1; y < B; y++) {
      const i = order[x]!;
      const j = order[y]!;
      const agreement = ahead[i * B + j]! / R;
      if (agreement < TOO_CLOSE_AGREEMENT) tooClose.push([i, j, agreement]);
    }
  }
  // Ranks are integers: widen the interpolated percentiles to the enclosing whole ranks.
  const wholeRanks = (rs: number[]): [number, number] => {
    const [lo, hi] = interval95(rs);
    return [Math.floor(lo), Math.ceil(hi)];
  };
  return { rankCi: ranks.map(wholeRanks), tooClose };
}
