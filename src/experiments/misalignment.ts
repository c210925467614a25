// Experiment (c), theory.md s.4 "Misalignment" and s.6-7: align the base model on one behaviour with LoRA
// DPO for the paper's one epoch, at the paper's lr or else the smallest of the profile's multiples of it
// that moves the model (raises its held-out policy accuracy by the profile's gain), and merge the adapter; measure Delta before and after (the aligned model's embeddings against the
// base model's), next to the normalised separations (Fisher ratio, Delta/sqrt(concentration)) that a
// mere spread of the clouds does not raise; then, for each protocol seed, train on the flipped
// preferences from the aligned model (its own reference) and from the base model. The test: a one-sided
// paired t-test over seeds of the flip's speed from the aligned model minus from the base model, per
// measure; the finding's status rests on the protocol's verdict measures (held out).
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { MEASURES, observedSpeeds } from '../analysis/observed-speed.js';
import { mergeAdapter } from '../model/merge.js';
import { MISALIGNMENT_BEHAVIOUR } from './behaviours.js';
import { compareStep, seconds, type ExperimentContext } from './context.js';
import { lastLayerRun, loraRun } from './experiment-runs.js';
import { analyzeModel } from './model-analysis.js';
import type { FinishedRun } from './train-run.js';
import { trainPairsOf } from './profile.js';
import { stepsForEpochs } from '../train/batches.js';
import { twoWayVerdict, type Verdict } from '../analysis/decision-rule.js';
import { pairedTTest } from '../analysis/t-test.js';
import { combinedStatus } from './protocol-tests.js';
import { HEADLINE_MEASURE, type FindingStatus } from './verdicts.js';
import { plural } from '../util/plural.js';

export interface DeltaChange {
  group: string;
  before: number;
  before_ci: [number, number] | null;
  after: number;
  after_ci: [number, number] | null;
  /** Normalised separations (theory.md s.3) before and after; null where the analysis has none. */
  fisher: [number | null, number | null];
  delta_over_sqrt_concentration: [number | null, number | null];
}

/** Aligned minus base speed (larger = faster) over seeds, for one measure. */
export interface FlipTest {
  measure: string;
  seeds: number[];
  differences: number[];
  mean: number;
  interval: [number, number] | null;
  p_value: number;
  method: string;
  decision: Verdict;
}

export interface FlipRun {
  /** The starting model and reference, relative to the output folder (or as given for the base model). */
  model: string;
  run: string;
  observed: Record<string, number | null>;
}

/**
 * Whether a policy accuracy rose from `base` to `final` by at least `gain`. Accuracies are fractions of the
 * held-out pairs, so a rise of exactly `gain` must count: 0.75 - 0.55 is 0.19999999999999996 in floating
 * point, hence the tolerance, far below one pair's share of any split.
 */
export function accuracyRose(base: number, final: number, gain: number): boolean {
  return final - base >= gain - 1e-9;
}

/** One alignment run at a multiple of the paper's lr. */
export interface AlignAttempt {
  multiple: number;
  lr: number;
  run: string;
  /** Held-out policy accuracy on the behaviour at step 0 (the base model). */
  base_policy_accuracy: number | null;
  final_test: { loss: number; policy_accuracy: number } | null;
  /** final_test.policy_accuracy - base_policy_accuracy reached the profile's movedGain. */
  moved: boolean;
}

export interface MisalignmentResult {
  behaviour: string;
  /** The alignment the experiment went on with: the first attempt that moved the model, else the last. */
  align: {
    run: string;
    mode: 'lora';
    epochs: number;
    steps: number;
    effective_batch: number;
    paper_lr: number;
    multiple: number;
    lr: number;
    moved: boolean;
    moved_gain: number;
    final_test: { loss: number; policy_accuracy: number } | null;
    attempts: AlignAttempt[];
  };
  aligned_model: string;
  analysis_after: string;
  /** The aligned behaviour first, then the other four. */
  delta: DeltaChange[];
  /** E||g||^2 over the protocol behaviours' prompt embeddings, base and aligned model. */
  mean_squared_norm: { before: number; after: number };
  /** from_aligned and from_base: the first seed's runs; `seeds`: every seed's. */
  flip: {
    mode: string;
    steps: number;
    lr: number;
    k: number;
    from_aligned: FlipRun;
    from_base: FlipRun;
    seeds: { seed: number; from_aligned: FlipRun; from_base: FlipRun }[];
  };
  tests: FlipTest[];
  /** Measures on which the flip from the aligned model was faster / slower, by the mean over seeds. */
  aligned_faster_on: string[];
  aligned_slower_on: string[];
  /** From the verdict measures' tests; undecided with one seed (no test of a difference). */
  status: FindingStatus;
}

export async function misalignment(
  ctx: ExperimentContext,
  before: { report: AnalysisReport; meanSquaredNorm: number },
  lastLayerLr: number,
): Promise<MisalignmentResult> {
  const { profile, seed } = ctx;
  const b = MISALIGNMENT_BEHAVIOUR;
  const dir = path.join(ctx.out, 'misalignment');
  const data = ctx.data.source([b], b);
  let t = Date.now();
  const a = profile.align;
  const steps = stepsForEpochs(a.epochs, trainPairsOf(ctx.data.counts.get(b)!), a.effectiveBatch);
  const attempts: AlignAttempt[] = [];
  let align: FinishedRun | undefined;
  for (const multiple of a.multiples) {
    const lr = Number((a.paperLr * multiple).toPrecision(12)); // 3e-5, not 0.000030000000000000004
    align = await loraRun(ctx, path.join(dir, 'align', `lr-${multiple}x`), data, {
      steps,
      lr,
      effectiveBatch: a.effectiveBatch,
    });
    const test = align.series.get('test')!.get(b) ?? [];
    const first = test[0]?.step === 0 ? test[0].policyAccuracy : null;
    const last = test.at(-1);
    const moved = first !== null && last !== undefined && accuracyRose(first, last.policyAccuracy, a.movedGain);
    attempts.push({
      multiple,
      lr,
      run: path.relative(ctx.out, align.dir),
      base_policy_accuracy: first,
      final_test: last ? { loss: last.loss, policy_accuracy: last.policyAccuracy } : null,
      moved,
    });
    ctx.log(
      `[c] aligned on ${b} with LoRA DPO at ${multiple} x the paper's lr (${lr}), ${a.epochs} ${plural('epoch', a.epochs)} (${steps} steps of ${a.effectiveBatch} pairs): held-out policy accuracy ${first?.toFixed(3) ?? '-'} -> ${last?.policyAccuracy.toFixed(3) ?? '-'}, ${moved ? 'moved' : 'not moved'} (${seconds(t)})`,
    );
    t = Date.now();
    if (moved) break;
  }
  if (!align) throw new Error("the profile lists no multiple of the paper's lr for the alignment");
  const chosen = attempts.at(-1)!;
  const alignedModel = path.join(dir, 'aligned-model');
  await mergeAdapter(ctx.model, align.checkpoint, alignedModel);
  ctx.log(`[c] merged the alignment at ${chosen.multiple} x into ${path.relative(ctx.out, alignedModel)}`);

  t = Date.now();
  const afterFile = path.join(dir, 'analysis-aligned.json');
  const after = await analyzeModel(alignedModel, ctx.data.source(ctx.protocol.behaviours, 'protocol'), {
    position: ctx.position,
    bootstrap: profile.bootstrap,
    seed,
    jsonFile: afterFile,
    tokenize: ctx.tokenize,
    keep: { group: b, name: path.join(dir, 'embeddings', b) },
  });
  const delta = [b, ...ctx.protocol.behaviours.filter((g) => g !== b)].map((g): DeltaChange => {
    const x = before.report.groups.find((r) => r.group === g)!;
    const y = after.report.groups.find((r) => r.group === g)!;
    return {
      group: g,
      before: x.delta,
      before_ci: x.delta_ci,
      after: y.delta,
      after_ci: y.delta_ci,
      fisher: [x.fisher ?? null, y.fisher ?? null],
      delta_over_sqrt_concentration: [x.delta_over_sqrt_concentration ?? null, y.delta_over_sqrt_concentration ?? null],
    };
  });
  ctx.log(
    `[c] Delta of ${b}: ${delta[0]!.before.toFixed(3)} before alignment, ${delta[0]!.after.toFixed(3)} after (${seconds(t)})`,
  );

  const flipLr = profile.flip.mode === 'last-layer' ? lastLayerLr : chosen.lr;
  const k = compareStep(profile.flip.steps);
  const flip = async (model: string, name: string, shown: string, seed: number): Promise<FlipRun> => {
    const t0 = Date.now();
    const runDir = path.join(dir, name);
    const options = { model, seed, flip: true };
    const run =
      profile.flip.mode === 'lora'
        ? await loraRun(
            ctx,
            runDir,
            data,
            { steps: profile.flip.steps, lr: flipLr, effectiveBatch: profile.flip.effectiveBatch },
            options,
          )
        : await lastLayerRun(ctx, runDir, data, flipLr, options);
    const [observed] = observedSpeeds(run.series, [b], k);
    ctx.log(
      `[c] flipped ${b} from the ${shown} model, seed ${seed}: mean train loss ${observed!.raw[HEADLINE_MEASURE]?.toFixed(4) ?? '-'} (${seconds(t0)})`,
    );
    return {
      model: shown === 'base' ? ctx.model : path.relative(ctx.out, model),
      run: path.relative(ctx.out, run.dir),
      observed: observed!.raw,
    };
  };
  const seeds: MisalignmentResult['flip']['seeds'] = [];
  for (const s of ctx.protocol.seeds) {
    seeds.push({
      seed: s,
      from_aligned: await flip(alignedModel, path.join('flip-aligned', `seed-${s}`), 'aligned', s),
      from_base: await flip(ctx.model, path.join('flip-base', `seed-${s}`), 'base', s),
    });
  }
  // Aligned minus base speed per measure, one value per seed.
  const differences = new Map(
    MEASURES.map((m) => [
      m.name,
      seeds.map(
        (r) => m.speed(r.from_aligned.observed[m.name] ?? null) - m.speed(r.from_base.observed[m.name] ?? null),
      ),
    ]),
  );
  const tests = MEASURES.filter((m) => ctx.protocol.measures.includes(m.name)).map((m): FlipTest => {
    const d = differences.get(m.name)!;
    const faster = pairedTTest(d);
    return {
      measure: m.name,
      seeds: ctx.protocol.seeds,
      differences: d,
      mean: faster.mean,
      interval: faster.interval,
      p_value: faster.p_value,
      method: faster.method,
      decision: twoWayVerdict(faster, pairedTTest(d.map((x) => -x)), ctx.protocol.decision),
    };
  });
  const meanDifference = [...differences].map(([name, d]) => ({
    name,
    d: d.reduce((x, y) => x + y, 0) / d.length,
  }));
  const fasterOn = meanDifference.filter((x) => x.d > 0).map((x) => x.name);
  const slowerOn = meanDifference.filter((x) => x.d < 0).map((x) => x.name);
  return {
    behaviour: b,
    align: {
      run: chosen.run,
      mode: 'lora',
      epochs: a.epochs,
      steps,
      effective_batch: a.effectiveBatch,
      paper_lr: a.paperLr,
      multiple: chosen.multiple,
      lr: chosen.lr,
      moved: chosen.moved,
      moved_gain: a.movedGain,
      final_test: chosen.final_test,
      attempts,
    },
    aligned_model: path.relative(ctx.out, alignedModel),
    analysis_after: path.relative(ctx.out, afterFile),
    delta,
    mean_squared_norm: { before: before.meanSquaredNorm, after: after.meanSquaredNorm },
    flip: {
      mode: profile.flip.mode,
      steps: profile.flip.steps,
      lr: flipLr,
      k,
      from_aligned: seeds[0]!.from_aligned,
      from_base: seeds[0]!.from_base,
      seeds,
    },
    tests,
    aligned_faster_on: fasterOn,
    aligned_slower_on: slowerOn,
    status: combinedStatus(
      tests.filter((t) => ctx.protocol.verdict.measures.includes(t.measure)).map((t) => t.decision),
    ),
  };
}
