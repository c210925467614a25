// One last-layer DPO run of an experiment at the profile's settings (experiments (a) and (b) train this way).
import type { ExperimentContext } from './context.js';
import { trainRun, type FinishedRun } from './train-run.js';

/** Trains the last layer of ctx.model on `data` (a data source argument) at `lr` into `dir`. */
export function lastLayerRun(ctx: ExperimentContext, dir: string, data: string, lr: number): Promise<FinishedRun> {
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
    seed: ctx.seed,
    tokenize: ctx.tokenize,
  });
}
