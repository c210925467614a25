// `prefdyn analyze`: distinguishability per group and the cross-group predictions (theory.md s.3-4),
// streaming the embeddings group by group, in named passes:
//   momentsPass      per group: side means, centred moments (groupStats), bootstrap replicates, duplicate keys
//   predictionsOf    across groups: mix weights, Grams of d_b and c_b, velocities, the predicted order
//   oneStepPass      per group again: z_i = s_i g_i . v once the mix's v is known (one-step.ts)
//   bootstrapOrder   across replicates: rank intervals and pairs too close to call
import { createHash } from 'node:crypto';
import { UserError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';
import { kernels } from '../tensor/kernels/index.js';
import { Rng } from '../util/rng.js';
import type { AnalysisReport, AnalysisWarning, GroupAnalysis } from './analysis-report.js';
import { bootstrapGroup, CENTRED_INTERVAL_METHOD, centredInterval95 } from './bootstrap.js';
import type { EmbeddingSource } from './embeddings-file.js';
import { CentredBuffers, groupStats, type GroupRows, type GroupStats } from './group-stats.js';
import { GRAM_MAX_SIDE } from './side-moments.js';
import {
  ACCURACY_BOUND,
  gradientDirection,
  oneStepAccuracy,
  predictOneStepMargins,
  type OneStepAccuracy,
} from './one-step.js';
import { marginVelocity, mixWeights, orderByDecreasing, priorityGapMatrix, sharedUpdateAlignment } from './priority.js';
import { TAIL_METHOD } from './tail-fit.js';
import { gramOf } from './vectors.js';
import { duplicateKey, duplicateWarning, deprioritisedWarnings, smallGroupWarnings } from './warnings.js';

export interface AnalyzeOptions {
  /** Groups trained together (default: every group). */
  mix?: readonly string[];
  /** Bootstrap replicates; 0 disables the intervals. */
  bootstrap: number;
  seed: number;
}

export const METHODS = {
  delta:
    'Delta = ||mu+ - mu-||_2 of the final-layer prompt embeddings (theory.md s.3); plug-in, biased upward in high dimension',
  delta_unbiased:
    'sqrt(max(0, ||mu+ - mu-||^2 - tr(S+)/n+ - tr(S-)/n-)), S+ and S- the sample covariances (1/(n-1)): the square root of the unbiased estimate of Delta^2, clipped at 0 (theory.md s.7)',
  delta_ci: `95% interval of delta over bootstrap replicates (resampling rows within each side of the group): ${CENTRED_INTERVAL_METHOD}`,
  concentration: `max over sides of the largest eigenvalue of the sample covariance (1/(n-1)), by Lanczos with full reorthogonalisation on the smaller Gram of the centred rows Xc: [n, d], formed by sgemms of its blocks on and below the diagonal when m = min(n, d) <= ${GRAM_MAX_SIDE} (Xc Xc^T [n, n] if n <= d, else Xc^T Xc [d, d]; same nonzero spectrum), else applied implicitly as Xc^T (Xc v)`,
  trace: 'max over sides of the trace of the sample covariance',
  fisher: '1-D Fisher criterion along u = d_b/||d_b||: (u.(mu+ - mu-))^2 / (u^T Cov+ u + u^T Cov- u)',
  tail: TAIL_METHOD + '; z = <u, g - mu_side>, both sides pooled',
  shared_update: '<dbar, d_b>, dbar = sum_b w_b d_b, w_b = share of pairs in the mix (theory.md s.4)',
  margin_velocity:
    'mean over the group of s_i g_i . v, v = mean over the mix of s_j g_j; margin after one full-batch SGD step of last-layer DPO = lr * beta^2 * this (exact; see src/analysis/one-step.ts)',
  predicted_order:
    'decreasing margin_velocity; rank intervals over bootstrap replicates (resampling rows within each side of each group), by the same bias-corrected percentile method as delta_ci around the point rank, widened to whole ranks within 1..B',
  priority_gap:
    'official code: dbar = (d_i + d_j)/2, p_i = <dbar, d_i>/||dbar||, gap(i,j) = (p_i - p_j)/max(||d_i||, ||d_j||); gap > 0: i first',
  one_step_accuracy:
    'fraction of the group with s_i g_i . v > 0 (reward accuracy after one full-batch last-layer SGD step from W0)',
  one_step_accuracy_bound: ACCURACY_BOUND,
};

/** Pairs whose bootstrap order agrees with the point order less often than this are "too close to call". */
export const TOO_CLOSE_AGREEMENT = 0.95;

export function analyzeEmbeddings(source: EmbeddingSource, options: AnalyzeOptions): AnalysisReport {
  checkMixNames(source, options.mix);
  const moments = momentsPass(source, options);
  const { stats, skipped } = moments;
  const names = stats.map((s) => s.group);
  const mix = options.mix ?? names;
  const skippedInMix = mix.filter((g) => !names.includes(g));
  if (skippedInMix.length)
    throw new UserError(`--mix names group(s) skipped for too few rows on a side: ${skippedInMix.join(', ')}`);
  const p = predictionsOf(stats, mix);
  const accuracy = oneStepPass(source, stats, p.weights);
  const boot =
    options.bootstrap > 0 ? bootstrapOrder(moments.replicates, stats.length, source.d, p.weights, p.order) : null;

  const groups: GroupAnalysis[] = p.order.map((b, r) => {
    const s = stats[b]!;
    return {
      group: s.group,
      n_pos: s.nPos,
      n_neg: s.nNeg,
      delta: s.delta,
      delta_unbiased: s.deltaUnbiased,
      delta_ci: moments.deltaCi.get(s.group) ?? null,
      concentration: s.concentration,
      trace: s.trace,
      delta_over_sqrt_concentration: s.deltaOverSqrtConcentration,
      fisher: s.fisher,
      tail_alpha: s.tail?.alpha ?? null,
      tail_K: s.tail?.K ?? null,
      in_mix: p.inMix[b]!,
      mix_weight: p.weights[b]!,
      shared_update: p.shared[b]!,
      margin_velocity: p.velocity[b]!,
      predicted_rank: r + 1,
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
  const dup = duplicateWarning(moments.groupsOfKey, moments.keyedBy);
  if (dup) warnings.push(dup);
  return {
    version: 1,
    source: { rows: source.rows.length, d: source.d },
    settings: {
      mix: [...mix],
      bootstrap: options.bootstrap,
      seed: options.seed,
      embedding_position: source.embeddingPosition,
    },
    methods: METHODS,
    groups,
    priority: { groups: names, gap: priorityGapMatrix(p.dd) },
    gram: { groups: names, dd: p.dd, cc: p.cc },
    order: {
      groups: p.order.map((b) => names[b]!),
      too_close: boot ? boot.tooClose.map(([i, j, agreement]) => ({ a: names[i]!, b: names[j]!, agreement })) : [],
    },
    skipped,
    warnings,
  };
}

/** --mix is checked before any reading, so a typo costs nothing. */
function checkMixNames(source: EmbeddingSource, mix: readonly string[] | undefined): void {
  const unknown = (mix ?? []).filter((g) => !source.groups.includes(g));
  if (unknown.length) {
    throw new UserError(
      `--mix names ${unknown.length} group(s) not in the data: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''} (the data has ${source.groups.length} groups, e.g. ${source.groups.slice(0, 3).join(', ')})`,
    );
  }
}

interface Moments {
  /** Groups with at least 2 rows on each side, in the source's order. */
  stats: GroupStats[];
  skipped: AnalysisReport['skipped'];
  deltaCi: Map<string, [number, number]>;
  /** Per analysed group, c_b of each bootstrap replicate: [R, d] (empty without the bootstrap). */
  replicates: Float32Array[];
  /** Prompt (or, without prompts, embedding) key -> the groups holding it. */
  groupsOfKey: Map<string, Set<string>>;
  keyedBy: 'prompt' | 'embedding';
}

/** Pass 1, one group in memory at a time: moments, bootstrap replicates, duplicate keys. */
function momentsPass(source: EmbeddingSource, options: AnalyzeOptions): Moments {
  const { d } = source;
  const keyedBy = source.rows.some((r) => r.prompt !== undefined) ? 'prompt' : 'embedding';
  const out: Moments = { stats: [], skipped: [], deltaCi: new Map(), replicates: [], groupsOfKey: new Map(), keyedBy };
  const addKey = (key: string, group: string) => {
    const set = out.groupsOfKey.get(key);
    if (set) set.add(group);
    else out.groupsOfKey.set(key, new Set([group]));
  };
  if (keyedBy === 'prompt')
    for (const r of source.rows) if (r.prompt !== undefined) addKey(duplicateKey(r.prompt), r.group);
  const buffers = new CentredBuffers();
  const refuse = (rows: GroupRows) => source.refuseNonFinite(rows);
  for (const group of source.groups) {
    // Unchecked read: groupStats's side means see every value and refuse a non-finite one.
    const rows = source.readGroup(group, false);
    let nPos = 0;
    for (const l of rows.labels) if (l === 1) nPos++;
    const nNeg = rows.labels.length - nPos;
    if (nPos < 2 || nNeg < 2) {
      refuse(rows);
      out.skipped.push({ group, n_pos: nPos, n_neg: nNeg });
      continue;
    }
    out.stats.push(groupStats(rows, buffers, refuse));
    if (keyedBy === 'embedding') {
      for (let i = 0; i < rows.labels.length; i++) {
        const bytes = new Uint8Array(rows.x.buffer, rows.x.byteOffset + i * d * 4, d * 4);
        addKey(createHash('sha1').update(bytes).digest('base64'), group);
      }
    }
    if (options.bootstrap > 0) {
      const rep = bootstrapGroup(rows, options.bootstrap, Rng.derive(options.seed, group));
      out.deltaCi.set(group, centredInterval95(rep.deltas, out.stats[out.stats.length - 1]!.delta));
      out.replicates.push(rep.signedMeans);
    }
  }
  if (out.stats.length === 0) {
    throw new UserError(
      `no group has at least 2 rows on each side (label +1 and -1); nothing to analyse (${out.skipped.length} groups skipped)`,
    );
  }
  return out;
}

/** Cross-group predictions from the groups' d_b and c_b (theory.md s.4); `order` lists groups fastest first. */
function predictionsOf(stats: readonly GroupStats[], mix: readonly string[]) {
  const inMix = stats.map((s) => mix.includes(s.group));
  const weights = mixWeights(
    stats.map((s) => s.nPos + s.nNeg),
    inMix,
  );
  const dd = gramOf(stats.map((s) => s.meanGap));
  const cc = gramOf(stats.map((s) => s.signedMean));
  const velocity = marginVelocity(cc, weights);
  return {
    inMix,
    weights,
    dd,
    cc,
    shared: sharedUpdateAlignment(dd, weights),
    velocity,
    order: orderByDecreasing(velocity),
  };
}

/** Pass 2: each group's one-step accuracy from z_i = s_i g_i . v, v = sum_b w_b c_b (margins in units of lr beta^2). */
function oneStepPass(
  source: EmbeddingSource,
  stats: readonly GroupStats[],
  weights: readonly number[],
): OneStepAccuracy[] {
  const v = gradientDirection(
    stats.map((s) => s.signedMean),
    weights,
  );
  return stats.map((s) => {
    // Unchecked read: every value enters a margin, so a non-finite one (the file changed since pass 1) shows there.
    const rows = source.readGroup(s.group, false);
    const z = predictOneStepMargins({ embeddings: rows.x, d: source.d, labels: rows.labels, lr: 1, beta: 1, v });
    if (firstNonFinite(z) >= 0) source.refuseNonFinite(rows);
    return oneStepAccuracy(z);
  });
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
  // Ranks are integers: widen the interpolated interval to the enclosing whole ranks, within 1..B.
  const pointRank = new Array<number>(B);
  order.forEach((b, r) => (pointRank[b] = r + 1));
  const wholeRanks = (rs: number[], b: number): [number, number] => {
    const [lo, hi] = centredInterval95(rs, pointRank[b]!);
    return [Math.max(1, Math.floor(lo)), Math.min(B, Math.ceil(hi))];
  };
  return { rankCi: ranks.map(wholeRanks), tooClose };
}
