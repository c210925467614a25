// The two kinds of training run of experiment (a) at the profile's settings: last-layer DPO (plain SGD,
// experiments (a) and (b)) and LoRA DPO (the paper's adapter; experiment (a)'s second mode and (c)'s alignment).
import type { ExperimentContext } from './context.js';
import { trainRun, type FinishedRun } from './train-run.js';

/** Trains the last layer of ctx.model on `data` (a data source argument) at `lr` into `dir`. */
export function lastLayerRun(
  ctx: ExperimentContext,
  dir: string,
  data: string,
  lr: number,
  seed = ctx.seed,
): Promise<FinishedRun> {
  const { profile } = ctx;
  return trainRun({
    dir,
    model: ctx.model,
    data,
    mode: 'last-layer',
    steps: profile.lastLayer.steps,
    lr,
    beta: profile.beta,
    batchSize: profile.lastLayer.batchSize,
    evalEvery: profile.lastLayer.evalEvery,
    seed,
    tokenize: ctx.tokenize,
  });
}

/**
 * LoRA DPO of ctx.model on `data` at the profile's alignment settings into `dir`, with `effectiveBatch`
 * pairs a step (a multiple of the micro-batch; default alignment's).
 */
export function loraRun(
  ctx: ExperimentContext,
  dir: string,
  data: string,
  seed = ctx.seed,
  effectiveBatch = ctx.profile.align.effectiveBatch,
): Promise<FinishedRun> {
  const { profile } = ctx;
  return trainRun({
    dir,
    model: ctx.model,
    data,
    mode: 'lora',
    steps: profile.align.steps,
    lr: profile.align.lr,
    beta: profile.beta,
    batchSize: profile.align.microBatch,
    gradientAccumulationSteps: effectiveBatch / profile.align.microBatch,
    evalEvery: profile.align.evalEvery,
    seed,
    tokenize: ctx.tokenize,
  });
}
