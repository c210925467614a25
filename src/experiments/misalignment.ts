// Experiment (c), theory.md s.4 "Misalignment" and s.6: align the base model on one behaviour with LoRA
// DPO and merge the adapter; measure Delta before and after (the aligned model's embeddings against the
// base model's); then train on the flipped preferences twice, from the aligned model (its own reference)
// and from the base model, and compare how fast each flip is learned.
import path from 'node:path';
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { MEASURES, observedSpeeds } from '../analysis/observed-speed.js';
import { mergeAdapter } from '../model/merge.js';
import { MISALIGNMENT_BEHAVIOUR, PAPER_BEHAVIOURS } from './behaviours.js';
import { compareStep, seconds, type ExperimentContext } from './context.js';
import { analyzeModel } from './model-analysis.js';
import { trainRun, type FinishedRun } from './train-run.js';
import { HEADLINE_MEASURE, type FindingStatus } from './verdicts.js';

export interface DeltaChange {
  group: string;
  before: number;
  before_ci: [number, number] | null;
  after: number;
  after_ci: [number, number] | null;
}

export interface FlipRun {
  /** The starting model and reference, relative to the output folder (or as given for the base model). */
  model: string;
  run: string;
  observed: Record<string, number | null>;
}

export interface MisalignmentResult {
  behaviour: string;
  align: {
    run: string;
    mode: 'lora';
    steps: number;
    lr: number;
    final_test: { loss: number; policy_accuracy: number } | null;
  };
  aligned_model: string;
  analysis_after: string;
  /** The aligned behaviour first, then the other four. */
  delta: DeltaChange[];
  /** E||g||^2 over the five behaviours' prompt embeddings, base and aligned model. */
  mean_squared_norm: { before: number; after: number };
  flip: { mode: string; steps: number; lr: number; k: number; from_aligned: FlipRun; from_base: FlipRun };
  /** Measures on which the flip from the aligned model was faster / slower. */
  aligned_faster_on: string[];
  aligned_slower_on: string[];
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
  const align = await trainRun({
    dir: path.join(dir, 'align'),
    model: ctx.model,
    data,
    mode: 'lora',
    steps: profile.align.steps,
    lr: profile.align.lr,
    beta: profile.beta,
    batchSize: profile.align.microBatch,
    gradientAccumulationSteps: profile.align.effectiveBatch / profile.align.microBatch,
    evalEvery: profile.align.evalEvery,
    seed,
    tokenize: ctx.tokenize,
  });
  const alignedModel = path.join(dir, 'aligned-model');
  await mergeAdapter(ctx.model, align.checkpoint, alignedModel);
  const alignTest = align.series.get('test')!.get(b)?.at(-1);
  ctx.log(
    `[c] aligned on ${b} with LoRA DPO (${profile.align.steps} steps), merged into ${path.relative(ctx.out, alignedModel)}; test policy accuracy ${alignTest?.policyAccuracy.toFixed(3) ?? '-'} (${seconds(t)})`,
  );

  t = Date.now();
  const afterFile = path.join(dir, 'analysis-aligned.json');
  const after = await analyzeModel(alignedModel, ctx.data.source(PAPER_BEHAVIOURS, 'five'), {
    bootstrap: profile.bootstrap,
    seed,
    jsonFile: afterFile,
    tokenize: ctx.tokenize,
    keep: { group: b, name: path.join(dir, 'embeddings', b) },
  });
  const delta = [b, ...PAPER_BEHAVIOURS.filter((g) => g !== b)].map((g): DeltaChange => {
    const x = before.report.groups.find((r) => r.group === g)!;
    const y = after.report.groups.find((r) => r.group === g)!;
    return { group: g, before: x.delta, before_ci: x.delta_ci, after: y.delta, after_ci: y.delta_ci };
  });
  ctx.log(
    `[c] Delta of ${b}: ${delta[0]!.before.toFixed(3)} before alignment, ${delta[0]!.after.toFixed(3)} after (${seconds(t)})`,
  );

  const flipLr = profile.flip.mode === 'last-layer' ? lastLayerLr : profile.align.lr;
  const k = compareStep(profile.flip.steps);
  const flip = async (model: string, name: string, shown: string): Promise<FlipRun> => {
    const t0 = Date.now();
    const lora = profile.flip.mode === 'lora';
    const run: FinishedRun = await trainRun({
      dir: path.join(dir, name),
      model,
      data,
      flip: true,
      mode: profile.flip.mode,
      steps: profile.flip.steps,
      lr: flipLr,
      beta: profile.beta,
      batchSize: lora ? profile.align.microBatch : profile.lastLayer.batchSize,
      gradientAccumulationSteps: lora ? profile.align.effectiveBatch / profile.align.microBatch : 1,
      evalEvery: lora ? profile.align.evalEvery : profile.lastLayer.evalEvery,
      seed,
      tokenize: ctx.tokenize,
    });
    const [o] = observedSpeeds(run.series, [b], k);
    ctx.log(
      `[c] flipped ${b} from the ${shown} model: mean train loss ${o!.raw[HEADLINE_MEASURE]?.toFixed(4) ?? '-'} (${seconds(t0)})`,
    );
    return {
      model: shown === 'base' ? ctx.model : path.relative(ctx.out, model),
      run: path.relative(ctx.out, run.dir),
      observed: o!.raw,
    };
  };
  const fromAligned = await flip(alignedModel, 'flip-aligned', 'aligned');
  const fromBase = await flip(ctx.model, 'flip-base', 'base');
  const speeds = MEASURES.map((m) => ({
    name: m.name,
    aligned: m.speed(fromAligned.observed[m.name]!),
    base: m.speed(fromBase.observed[m.name]!),
  }));
  const fasterOn = speeds.filter((s) => s.aligned > s.base).map((s) => s.name);
  const slowerOn = speeds.filter((s) => s.aligned < s.base).map((s) => s.name);
  const deltaRose = delta[0]!.after > delta[0]!.before;
  const flipFaster = fasterOn.includes(HEADLINE_MEASURE);
  return {
    behaviour: b,
    align: {
      run: path.relative(ctx.out, align.dir),
      mode: 'lora',
      steps: profile.align.steps,
      lr: profile.align.lr,
      final_test: alignTest ? { loss: alignTest.loss, policy_accuracy: alignTest.policyAccuracy } : null,
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
      from_aligned: fromAligned,
      from_base: fromBase,
    },
    aligned_faster_on: fasterOn,
    aligned_slower_on: slowerOn,
    status: deltaRose && flipFaster ? 'holds' : deltaRose || flipFaster ? 'partly' : 'not reproduced',
  };
}
