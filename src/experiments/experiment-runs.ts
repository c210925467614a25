// The two kinds of training run of the experiments at the profile's settings: last-layer DPO (plain SGD,
// experiments (a) and (b), the quick profile's flips) and LoRA DPO (the paper's adapter; experiment (a)'s
// second mode and (c)'s alignment and flips).
import type { ExperimentContext } from './context.js';
import { trainRun, type FinishedRun } from './train-run.js';

/** What differs between runs of one kind: the starting model (default ctx.model), seed, flipped labels. */
export interface RunOptions {
  model?: string;
  seed?: number;
  flip?: boolean;
}

/** Trains the last layer on `data` (a data source argument) at `lr` into `dir`. */
export function lastLayerRun(
  ctx: ExperimentContext,
  dir: string,
  data: string,
  lr: number,
  o: RunOptions = {},
): Promise<FinishedRun> {
  const { profile } = ctx;
  return trainRun({
    dir,
    model: o.model ?? ctx.model,
    data,
    flip: o.flip,
    mode: 'last-layer',
    steps: profile.lastLayer.steps,
    lr,
    beta: profile.beta,
    batchSize: profile.lastLayer.batchSize,
    evalEvery: profile.lastLayer.evalEvery,
    seed: o.seed ?? ctx.seed,
    tokenize: ctx.tokenize,
  });
}

/** Steps, lr and pairs a step (a multiple of the profile's LoRA micro-batch) of one LoRA run. */
export interface LoraSettings {
  steps: number;
  lr: number;
  effectiveBatch: number;
}

/** LoRA DPO on `data` into `dir`. */
export function loraRun(
  ctx: ExperimentContext,
  dir: string,
  data: string,
  s: LoraSettings,
  o: RunOptions = {},
): Promise<FinishedRun> {
  const { profile } = ctx;
  return trainRun({
    dir,
    model: o.model ?? ctx.model,
    data,
    flip: o.flip,
    mode: 'lora',
    steps: s.steps,
    lr: s.lr,
    beta: profile.beta,
    batchSize: profile.lora.microBatch,
    gradientAccumulationSteps: s.effectiveBatch / profile.lora.microBatch,
    evalEvery: Math.min(profile.lora.evalEvery, s.steps),
    seed: o.seed ?? ctx.seed,
    tokenize: ctx.tokenize,
  });
}
